"""The ``platformkit-aws`` policy pack: its name, the directory it ships in, its server.

A pack is a directory holding ``PulumiPolicy.yaml`` and the ``__main__.py`` the Pulumi CLI
runs. Two such directories call ``serve``: ``platformkit/policy_pack/`` in the installed
distribution (what ``platformkit policy-pack-path`` prints; waivers only through
``$PLATFORMKIT_WAIVERS``), and this repository's ``policies/`` (its own virtualenv and waiver
file). See ``docs/policies.md``.
"""

from __future__ import annotations

from pathlib import Path

from pulumi_policy import EnforcementLevel, PolicyPack

from .catalog import build_policies

PACK_NAME = "platformkit-aws"
"""The name every report and ``pulumi policy publish`` show for the pack."""
PACK_DIRECTORY = Path(__file__).resolve().parent.parent / "policy_pack"
"""The pack directory installed with the distribution (package data of ``platformkit``)."""
PRESETS = ("dev", "prod")
"""The per-environment configs shipped as ``config/<name>.json`` in ``PACK_DIRECTORY``."""


def serve(waivers_file: Path | None) -> None:
    """Start the pack's analyzer server; it prints its port and blocks until stopped.

    ``waivers_file`` is read at start-up unless ``$PLATFORMKIT_WAIVERS`` names another file;
    ``None`` means waivers come only from that variable (none when it is unset).
    """
    PolicyPack(
        name=PACK_NAME,
        # Each policy declares its own default level; the per-environment config files override.
        enforcement_level=EnforcementLevel.MANDATORY,
        policies=build_policies(waivers_file=waivers_file),
        description="Secure-by-default rules for the platformkit AWS stack (network, ALB, ECS, "
        "RDS, ECR, logs, KMS, IAM, tags, cost), with per-environment config and waivers.",
        provider="aws",
        tags=["aws", "platformkit"],
    )
