"""A component with children, so the tree has more than one level."""

import pulumi
import pulumi_aws as aws


class Logs(pulumi.ComponentResource):
    """A log group and its subscription topic."""

    def __init__(self, name: str, retention_days: int) -> None:
        super().__init__("basic:index:Logs", name, {}, None)
        self.group = aws.cloudwatch.LogGroup(
            f"{name}-group",
            retention_in_days=retention_days,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.topic = aws.sns.Topic(f"{name}-topic", opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"groupArn": self.group.arn})
