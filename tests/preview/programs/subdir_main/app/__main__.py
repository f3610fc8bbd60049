"""Fixture program run from a ``main:`` subdirectory (its cwd)."""

from pathlib import Path

import pulumi
import pulumi_aws as aws
from components import NAME_FILE  # type: ignore[import-not-found]  # on sys.path at run time only

name = Path(NAME_FILE).read_text().strip()
topic = aws.sns.Topic("alerts", name=name)
pulumi.export("topicArn", topic.arn)
