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

    def __init__(
        self,
        type_token: str,
        name: str,
        tags: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Register the component as ``type_token``, with ``tags`` (its settings' ``tags``)
        for its children."""
        super().__init__(type_token, name, {}, opts)
        self._name = name
        self._tags = tags

    def _child(self, **options: Any) -> pulumi.ResourceOptions:
        """Options of a child resource: parented to this component, plus ``options``
        (``depends_on``, ``ignore_changes``...)."""
        return pulumi.ResourceOptions(parent=self, **options)
