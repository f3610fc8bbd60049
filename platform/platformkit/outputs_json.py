"""A stack's outputs as ``pulumi stack output --json --stack S`` prints them: a JSON object of
output name -> value. One reader for every command that takes them (``platformkit preview
--stack-outputs``, ``platformkit verify --outputs``)."""

from __future__ import annotations

import json
from typing import Any


def parse_outputs(text: str, source: str) -> dict[str, Any]:
    """The outputs in ``text``; ``ValueError`` naming ``source`` (a file, a command) when it is
    not a JSON object."""
    try:
        outputs = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{source} is not JSON: {exc}") from exc
    if not isinstance(outputs, dict):
        raise ValueError(
            f"{source} must hold a JSON object of outputs (what `pulumi stack output --json` "
            f"prints), got {json_kind(outputs)}"
        )
    return outputs


def json_kind(value: object) -> str:
    """The name of a parsed JSON value's type, for messages (``null``, ``list``, ``str``)."""
    return "null" if value is None else type(value).__name__
