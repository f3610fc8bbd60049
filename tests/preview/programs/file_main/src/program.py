"""Fixture program whose ``main:`` names a file."""

import pulumi

pulumi.export("message", "hello")
