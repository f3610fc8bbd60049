"""Fixture program: names a page or a graph would run or break on if it did not escape them.

The load balancer is internet-facing without a WAF (advisory ``alb-waf-attached``, whose
message repeats the name) and keeps invalid headers (mandatory ``alb-drop-invalid-headers``).
"""

import pulumi
import pulumi_aws as aws

SCRIPT_NAME = '<script>document.title="pwned"</script>'
QUOTED_NAME = 'say "hi" \\ <img src=x onerror=alert(1)>'


class Group(pulumi.ComponentResource):
    """A component whose name is markup, with one child."""

    def __init__(self, name: str) -> None:
        super().__init__("hostile:index:Group", name, {}, None)
        aws.sns.Topic(f"{name}-topic", opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})


group = Group(QUOTED_NAME)
aws.lb.LoadBalancer(
    SCRIPT_NAME,
    load_balancer_type="application",
    internal=False,
    subnets=["subnet-a", "subnet-b"],
    drop_invalid_header_fields=False,
    desync_mitigation_mode="defensive",
    tags={"environment": "test", "project": "gate", "owner": "qa", "managed-by": "pulumi"},
    opts=pulumi.ResourceOptions(depends_on=[group]),
)
