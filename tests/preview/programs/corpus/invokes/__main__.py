import base64

import pulumi
import pulumi_aws as aws

vpc = aws.ec2.get_vpc(default=True)
subnets = aws.ec2.get_subnets(filters=[{"name": "vpc-id", "values": [vpc.id]}])
zone = aws.route53.get_zone(name="example.com")
token = aws.ecr.get_authorization_token()
user, password = base64.b64decode(token.authorization_token).decode().split(":")
aws.lb.LoadBalancer("lb", subnets=subnets.ids, internal=True)
pulumi.export("vpc", vpc.id)
pulumi.export("zone", zone.zone_id)
pulumi.export("registryUser", user)
