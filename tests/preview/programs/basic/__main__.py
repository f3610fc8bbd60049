"""Fixture program: typed config, a component, secrets and outputs of every kind."""

import json

import pulumi
import pulumi_aws as aws
from components import Logs  # type: ignore[import-not-found]  # on sys.path at run time only

config = pulumi.Config()
az_count = config.require_int("azCount")
zones = config.require_object("zones")
tags = {"owner": config.require("owner"), **config.require_object("tags")}
db_password = config.require_secret("dbPassword")

bucket = aws.s3.Bucket("data", tags=tags)
parameter = aws.ssm.Parameter("db-password", type="SecureString", value=db_password)
token = pulumi.Output.secret("plaintext-token-must-not-leak")
aws.ssm.Parameter("api-token", type="SecureString", value=token)
aws.s3.BucketPolicy(
    "data-policy",
    bucket=bucket.id,
    policy=bucket.arn.apply(
        lambda arn: json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [arn, f"{arn}/*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            }
        )
    ),
)
if config.require_bool("enableLogs"):
    logs = Logs("app", retention_days=config.require_int("retentionDays"))
    pulumi.export("logGroupArn", logs.group.arn)

pulumi.export("bucketName", bucket.bucket)
pulumi.export("azCount", az_count)
pulumi.export("zones", [f"{aws.config.region}{z}" for z in zones[:az_count]])
pulumi.export("dbPassword", db_password)
pulumi.export("token", token)
pulumi.export("summary", {"bucket": bucket.id, "zones": len(zones), "tags": tags})
