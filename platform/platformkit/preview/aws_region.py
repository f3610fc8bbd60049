"""The AWS provider's region, found where pulumi-aws looks for it, or the error it gives.

pulumi-aws refuses to run without a region ("missing region information ... `pulumi config
set aws:region us-west-2`"). The default provider takes it from, in order: the stack's
``aws:region``, the environment (``AWS_REGION``, then ``AWS_DEFAULT_REGION``), then the
``region`` of the AWS profile (``aws:profile`` or ``AWS_PROFILE``, else ``default``) in the
AWS config file (``AWS_CONFIG_FILE``, else ``~/.aws/config``). An explicit ``aws.Provider``
ignores the stack's ``aws:*`` config: its own ``region`` argument, else the environment and
the profile.
"""

from __future__ import annotations

import configparser
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platformkit.preview.errors import PreviewError

_REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")


class MissingRegion(PreviewError):
    """An AWS provider would start without a region."""


@dataclass(frozen=True)
class RegionCheck:
    """Raises, as the provider would, when an AWS provider starts without a region.

    ``default_error`` is what the default provider reports (``None``: it has a region);
    ``environ`` is the program's environment, where an explicit provider looks.
    """

    default_error: MissingRegion | None
    environ: Mapping[str, str]

    def default_provider(self) -> None:
        """Called when a resource or invoke uses the default AWS provider."""
        if self.default_error is not None:
            # A fresh copy each time: one instance raised from many calls would pile up
            # tracebacks (and keep their frames alive).
            raise MissingRegion(self.default_error.message)

    def explicit_provider(self, name: str, inputs: Mapping[str, Any]) -> None:
        """Called when the program creates ``aws.Provider(name, ...)`` with ``inputs``."""
        if inputs.get("region"):
            return
        profile = inputs.get("profile")
        if ambient_region(self.environ, profile if isinstance(profile, str) else None) is None:
            raise explicit_provider_error(name)


def default_provider_region(config: Mapping[str, str], environ: Mapping[str, str]) -> str | None:
    """The region of the default AWS provider for a stack with ``config``, or ``None``."""
    return config.get("aws:region") or ambient_region(environ, config.get("aws:profile"))


def ambient_region(environ: Mapping[str, str], profile: str | None = None) -> str | None:
    """The region an AWS provider without a ``region`` setting finds, or ``None``.

    ``profile`` (default: ``AWS_PROFILE``, else ``default``) names the AWS config profile.
    """
    for variable in _REGION_VARIABLES:
        if environ.get(variable):
            return environ[variable]
    return _profile_region(environ, profile or environ.get("AWS_PROFILE") or "default")


def default_provider_error(stack_file: str, stack: str) -> MissingRegion:
    """What the default provider reports when no region is found, in one line."""
    return MissingRegion(
        "error: pulumi:providers:aws (default) has a problem: missing region information; "
        f"set aws:region in {stack_file} (`pulumi config set aws:region us-west-2 --stack "
        f"{stack}`), or AWS_REGION in the environment"
    )


def explicit_provider_error(name: str) -> MissingRegion:
    """What an explicit ``aws.Provider`` without a region reports (stack config not read)."""
    return MissingRegion(
        f"error: pulumi:providers:aws {name!r} has a problem: missing region information; "
        "pass region= to the provider (an explicit provider does not read the stack's "
        "aws:region), or set AWS_REGION in the environment"
    )


def _profile_region(environ: Mapping[str, str], profile: str) -> str | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        path = Path(environ.get("AWS_CONFIG_FILE") or Path.home() / ".aws" / "config")
        parser.read(path, encoding="utf-8")
    except (OSError, RuntimeError, configparser.Error):
        return None  # an unreadable config file gives no region, as for the AWS SDK
    section = profile if profile == "default" else f"profile {profile}"
    region = parser.get(section, "region", fallback="").strip()
    return region or None
