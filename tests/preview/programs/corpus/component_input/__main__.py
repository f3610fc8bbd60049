import pulumi
import pulumi_aws as aws


class Logs(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("corpus:index:Logs", name, {}, opts)
        self.group = aws.cloudwatch.LogGroup(
            f"{name}-group", retention_in_days=30, opts=pulumi.ResourceOptions(parent=self)
        )
        self.register_outputs({"group": self.group})


provider = aws.Provider("eu", region="eu-central-1")
logs = Logs("app")
topic = aws.sns.Topic("alerts", opts=pulumi.ResourceOptions(provider=provider, depends_on=[logs]))
aws.cloudwatch.LogSubscriptionFilter(
    "forward",
    log_group=logs.group,
    filter_pattern="",
    destination_arn=topic.arn,
)
pulumi.export("logs", logs)
