"""Keep track of which property values arrived as secrets.

The engine sends a secret input (``config.require_secret``, ``pulumi.Output.secret``) to the
analyzer wrapped in a secret signature, but the policy SDK unwraps it before calling a resource
validator, so a rule cannot tell a secret from a literal typed into the program. Installing
``mark_secrets`` makes every string that arrived as a secret a ``SecretString``: still a plain
``str`` to every rule, but ``is_secret`` recognises it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi_policy.policy

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


class SecretString(str):
    """A string property value the engine sent as a secret."""

    __slots__ = ()


def is_secret(value: Any) -> bool:
    """Whether ``value`` arrived as a secret (see ``install``)."""
    return isinstance(value, SecretString)


def _mark(value: Any) -> Any:
    if isinstance(value, list):
        return [_mark(item) for item in value]
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG and isinstance(value.get("value"), str):
            return {**value, "value": SecretString(value["value"])}
        return {key: _mark(item) for key, item in value.items()}
    return value


def install() -> None:
    """Make the SDK keep the secret mark on strings it hands to validators (idempotent)."""
    sdk: Any = pulumi_policy.policy
    found: Callable[..., dict[str, Any]] | None = getattr(sdk, "deserialize_properties", None)
    if found is None:
        # Another SDK layout: secrets then read as literals (a false finding on a secret
        # password), never a pack that fails to load.
        return
    if getattr(found, "marks_secrets", False):
        return
    original = found

    def deserialize(props: dict[str, Any], proxy_secrets: bool = False) -> dict[str, Any]:
        return original(_mark(props), proxy_secrets)

    deserialize.marks_secrets = True  # type: ignore[attr-defined]
    # The SDK module looks the function up at call time, so replacing the name is enough.
    sdk.deserialize_properties = deserialize
