"""Deliberately insecure data tier: every resource breaks the policy named beside it."""

import json

import pulumi
import pulumi_aws as aws

TAGS = {"environment": "test", "project": "gate", "owner": "qa", "managed-by": "pulumi"}

vpc = aws.ec2.Vpc("vpc", cidr_block="10.0.0.0/16", tags=TAGS)

# ec2-no-public-database-or-app-ports: MySQL open to the internet.
db_sg = aws.ec2.SecurityGroup(
    "db-open",
    description="database",
    vpc_id=vpc.id,
    ingress=[
        {
            "protocol": "tcp",
            "from_port": 3306,
            "to_port": 3306,
            "cidr_blocks": ["0.0.0.0/0"],
            "description": "mysql",
        }
    ],
    tags=TAGS,
)

# rds-not-public and rds-storage-encrypted.
aws.rds.Instance(
    "db-public",
    engine="mysql",
    instance_class="db.t4g.micro",
    allocated_storage=20,
    publicly_accessible=True,
    storage_encrypted=False,
    manage_master_user_password=True,
    username="admin",
    backup_retention_period=7,
    vpc_security_group_ids=[db_sg.id],
    skip_final_snapshot=True,
    tags=TAGS,
)

# cloudwatch-log-retention: logs kept forever.
aws.cloudwatch.LogGroup("logs-forever", tags=TAGS)

# ecr-immutable-tags: tags can be overwritten.
aws.ecr.Repository(
    "images",
    image_tag_mutability="MUTABLE",
    image_scanning_configuration={"scan_on_push": True},
    tags=TAGS,
)

# required-tags: no tags at all.
aws.s3.BucketV2("untagged")

# ec2-no-public-database-or-app-ports, reported once (not again by ec2-no-world-ingress).
aws.ec2.SecurityGroup(
    "ssh-open",
    description="bastion",
    vpc_id=vpc.id,
    ingress=[
        {
            "protocol": "tcp",
            "from_port": 22,
            "to_port": 22,
            "cidr_blocks": ["0.0.0.0/0"],
            "description": "ssh",
        }
    ],
    tags=TAGS,
)

# s3-bucket-not-public: anyone may read, and the public access block lets the policy work.
site = aws.s3.Bucket("public-site", tags=TAGS)
site_block = aws.s3.BucketPublicAccessBlock(
    "public-site-block",
    bucket=site.id,
    block_public_acls=False,
    block_public_policy=False,
    ignore_public_acls=False,
    restrict_public_buckets=False,
)
aws.s3.BucketPolicy(
    "public-site-policy",
    bucket=site.id,
    policy=site.arn.apply(
        lambda arn: json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": f"{arn}/*",
                    }
                ],
            }
        )
    ),
    opts=pulumi.ResourceOptions(depends_on=[site_block]),
)

# Not a finding: the password is a secret input, never a literal in code. (pulumi_aws marks
# every password input secret, so a literal typed here would look the same to any policy
# pack; docs/policies.md says what catches those.)
aws.rds.Instance(
    "db-secret-password",
    engine="mysql",
    instance_class="db.t4g.micro",
    allocated_storage=20,
    storage_encrypted=True,
    username="admin",
    password=pulumi.Config().require_secret("dbPassword"),
    backup_retention_period=7,
    skip_final_snapshot=True,
    tags=TAGS,
)

# Not findings: AWS enables a health check by default and probes "/" when no path is given.
aws.lb.TargetGroup("tg-default-check", port=80, protocol="HTTP", vpc_id=vpc.id, tags=TAGS)
aws.lb.TargetGroup(
    "tg-no-path",
    port=80,
    protocol="HTTP",
    vpc_id=vpc.id,
    health_check={"enabled": True, "matcher": "200"},
    tags=TAGS,
)
# alb-target-group-health-check: switched off.
aws.lb.TargetGroup(
    "tg-no-check",
    port=80,
    protocol="HTTP",
    vpc_id=vpc.id,
    health_check={"enabled": False},
    tags=TAGS,
)
