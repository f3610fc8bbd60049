import pulumi
import pulumi_aws as aws

ami = aws.ec2.get_ami(
    most_recent="true",  # a string where the SDK types a bool: the provider answers a bool
    owners=["amazon"],
    filters=[aws.ec2.GetAmiFilterArgs(name="name", values=["al2023-ami-*-x86_64"])],
)
server = aws.ec2.Instance("web", ami=ami.id, instance_type="t3.micro")
pulumi.export("ami", ami.id)
pulumi.export("publicDns", server.public_dns)
