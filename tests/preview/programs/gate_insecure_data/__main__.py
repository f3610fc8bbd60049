"""Deliberately insecure data tier: every resource breaks the policy named beside it."""

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
