"""Fixture program that raises while building its resources."""

import pulumi_aws as aws
from helpers import subnet_count  # type: ignore[import-not-found]  # on sys.path at run time only

aws.s3.Bucket("before-the-error")
subnet_count(1)
