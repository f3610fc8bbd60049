import pulumi
import pulumi_aws as aws

network = pulumi.StackReference("acme/network/prod")
vpc_id = network.require_output("vpcId")
group = aws.ec2.SecurityGroup("app", vpc_id=vpc_id, description="app")
subnets = network.get_output("privateSubnetIds").apply(lambda ids: ids[0])
pulumi.export("vpcId", vpc_id)
pulumi.export("firstSubnet", subnets)
