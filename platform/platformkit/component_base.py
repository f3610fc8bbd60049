"""What every platformkit component shares: how its children are parented."""

from __future__ import annotations

from typing import Any

import pulumi


class Component(pulumi.ComponentResource):
    """Base of ``Network``, ``Cluster``, ``Database`` and ``WebService``.

    The modules of a component package (``cluster.waf``, ``web_service.iam``...) create
    children for the component they are given: named from ``_name``, tagged with ``_tags``,
    parented through ``_child``.
    """

    _name: str
    """The instance name; every child's name starts with it."""
    _tags: dict[str, str]
    """The tags every child that takes tags gets."""

    def _child(self, **options: Any) -> pulumi.ResourceOptions:
        """Options of a child resource: parented to this component, plus ``options``
        (``depends_on``, ``ignore_changes``...)."""
        return pulumi.ResourceOptions(parent=self, **options)
