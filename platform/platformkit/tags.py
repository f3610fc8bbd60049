"""The standard tags every platformkit resource carries.

Tags go on each resource itself (not only through the provider's ``default_tags``) because
policy packs see a resource's ``tags`` input, never the provider-computed ``tagsAll``.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

from platformkit.validation import ArgumentReader

MANAGED_BY = "pulumi-platformkit"
"""Value of the ``managed-by`` tag."""

DEFAULT_OWNER = "platform-team"
"""Owner recorded when a component is not given one."""

STANDARD_TAG_KEYS = ("environment", "project", "owner", "managed-by")
"""Keys present on every resource a platformkit component creates."""


def standard_tags(
    *,
    environment: str | None = None,
    owner: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Return the standard tags merged with the caller's ``extra`` tags.

    ``environment`` defaults to the Pulumi stack name and ``owner`` to ``DEFAULT_OWNER``;
    ``project`` is the Pulumi project name. Caller tags win over the standard values except
    ``managed-by``, which always says who manages the resource.
    """
    tags = {
        "environment": environment or pulumi.get_stack(),
        "project": pulumi.get_project(),
        "owner": owner or DEFAULT_OWNER,
    }
    tags.update(extra or {})
    tags["managed-by"] = MANAGED_BY
    return tags


def read_tags(read: ArgumentReader) -> dict[str, str]:
    """The tags of a component from its ``environment``, ``owner`` and ``tags`` arguments
    (every component takes these three), checked: strings, ``tags`` a mapping of strings."""
    return standard_tags(
        environment=read.string("environment"),
        owner=read.string("owner"),
        extra=read.mapping("tags", values=str),
    )
