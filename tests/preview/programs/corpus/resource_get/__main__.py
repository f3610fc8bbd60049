import pulumi
import pulumi_aws as aws

vpc = aws.ec2.Vpc.get("existing", "vpc-0123456789abcdef0")
subnet = aws.ec2.Subnet("app", vpc_id=vpc.id, cidr_block="10.0.1.0/24")
pulumi.export("vpcId", vpc.id)
pulumi.export("vpcArn", vpc.arn)
