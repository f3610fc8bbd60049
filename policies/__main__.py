"""Entry point of the platformkit policy pack: assembles the PolicyPack, nothing else.

The Pulumi CLI runs this file with ``policies/`` as ``sys.path[0]`` and waits for the port the
SDK prints; ``PolicyPack(...)`` then serves gRPC until the CLI stops it. Rules live in
``platformkit.policy`` so they can be imported and tested without starting a server.
"""

from pathlib import Path

from pulumi_policy import EnforcementLevel, PolicyPack

from platformkit.policy import build_policies

PACK_NAME = "platformkit-aws"

PolicyPack(
    name=PACK_NAME,
    # Each policy declares its own default level; the per-environment config files override.
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=build_policies(waivers_file=Path(__file__).resolve().parent / "waivers.yaml"),
    description="Secure-by-default rules for the platformkit AWS stack (network, ALB, ECS, RDS, "
    "ECR, logs, KMS, IAM, tags, cost), with per-environment config and waivers.",
    provider="aws",
    tags=["aws", "platformkit"],
)
