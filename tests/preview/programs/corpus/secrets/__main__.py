import pulumi
import pulumi_aws as aws

config = pulumi.Config()
private_key = config.require_secret("privateKey")
# Programs decode what they were given; a bare "[secret]" broke this.
pem = private_key.apply(lambda key: key if key.startswith("-----BEGIN") else 1 / 0)
password = config.require_secret("dbPassword")
aws.rds.Instance(
    "db",
    engine="postgres",
    instance_class="db.t4g.micro",
    allocated_storage=20,
    username="app",
    password=password.apply(lambda p: p if len(p) >= 8 else 1 / 0),
    skip_final_snapshot=True,
    storage_encrypted=True,
)
aws.ssm.Parameter("key", type="SecureString", value=pem)
pulumi.export("keyLength", pem.apply(len))
