import json

import pulumi
import pulumi_aws as aws

cert = aws.acm.Certificate("cert", domain_name="www.example.com", validation_method="DNS")
zone = aws.route53.Zone("zone", name="example.com")
record = aws.route53.Record(
    "validation",
    zone_id=zone.zone_id,
    name=cert.domain_validation_options[0].resource_record_name,
    type=cert.domain_validation_options[0].resource_record_type,
    records=[cert.domain_validation_options[0].resource_record_value],
    ttl=60,
)
role = aws.iam.Role("eks", assume_role_policy="{}")
cluster = aws.eks.Cluster(
    "cluster", role_arn=role.arn, vpc_config={"subnet_ids": ["subnet-1", "subnet-2"]}
)
kubeconfig = pulumi.Output.all(cluster.endpoint, cluster.certificate_authority.data).apply(
    lambda args: json.dumps({"server": args[0], "certificate-authority-data": args[1]})
)
graphql = aws.appsync.GraphQLApi("api", authentication_type="API_KEY")
warehouse = aws.redshift.Cluster(
    "warehouse",
    cluster_identifier="warehouse",
    node_type="ra3.xlplus",
    master_username="admin",
    master_password="Password123",
    skip_final_snapshot=True,
)
queue = aws.sqs.Queue("jobs")
pulumi.export("kubeconfig", kubeconfig)
pulumi.export("graphqlUrl", graphql.uris["GRAPHQL"])
pulumi.export("warehouseHost", warehouse.endpoint.apply(lambda e: e.split(":")[0]))
pulumi.export("queueUrl", queue.url)
pulumi.export("validationRecord", record.fqdn)
