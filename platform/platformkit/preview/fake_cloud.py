"""Realistic fake cloud answers for Pulumi's mock runtime.

``FakeCloud`` plays the provider. In ``up`` mode a created resource gets the outputs AWS would
compute: the per-type models of ``aws_models`` where one exists (ids, ARNs in their real
format, endpoints, DNS names), and for every other output the SDK declares as always set, a
value derived from its type and name (``synthesize``). Values are derived from a hash of the
resource's type and name, so two runs of the same program produce the same ids.

In ``preview`` mode a created resource gets its inputs back and nothing else, so every computed
output (ids, ARNs, endpoints) stays unknown, exactly as a real ``pulumi preview`` shows them.
What exists already is known in both modes, as it is for the CLI: ``Resource.get`` reads and
``StackReference`` outputs (which the user supplies: ``stack_outputs``; secret ones go back
marked secret, with their names in ``secretOutputNames`` as the engine sends them).

With a ``RegionCheck`` (``platformkit preview`` passes one), an AWS resource or invoke on the
default provider, or an ``aws.Provider`` without a region, fails as pulumi-aws fails when it
finds no region (``aws_region``).

Remote components (awsx) never get their inputs echoed back: their outputs are shaped by the
component's declared output types (scalars and id lists in ``up`` mode, unknown in
``preview``; resource-typed outputs are left unset: the children are not emulated).
Dynamic providers are not run (``create`` would talk to real systems): a dynamic resource gets
its inputs back, plus in ``up`` mode the outputs the answers file supplies under its name (any
resource's outputs can be supplied so). Invokes are answered by ``lookups``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import pulumi

from platformkit.preview import sdk_schema, stack_outputs, wire
from platformkit.preview.answers import Answers
from platformkit.preview.aws_models import BUILDERS, ID_PREFIXES
from platformkit.preview.aws_region import RegionCheck
from platformkit.preview.identity import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    Identity,
    digest,
)
from platformkit.preview.lookups import look_up, render_policy_document
from platformkit.preview.resource_ids import provider_id
from platformkit.preview.synthesize import Subject, fill, physical_name

Mode = Literal["up", "preview"]

STACK_REFERENCE = "pulumi:pulumi:StackReference"
DYNAMIC_RESOURCE = "pulumi-python:dynamic:Resource"
AWS_PROVIDER = "pulumi:providers:aws"


def resource_seed(args: pulumi.runtime.MockResourceArgs) -> str:
    """The hash every fake value of one resource derives from: unique per URN.

    A URN is the stack, the project, the chain of parent types and the name, so two resources
    sharing a name under different parents (``analytics-sg`` of a Database and of a WebService)
    get different ids, as they would in AWS. A top-level resource's seed is that of its type
    and name alone, as before URNs were taken into account.
    """
    urn = str(getattr(args, "urn", "") or "")
    parts = urn.split("::")
    parents = parts[2].split("$")[:-1] if len(parts) >= 4 else []
    return digest(args.typ, args.name, *parents) if parents else digest(args.typ, args.name)


class FakeCloud(pulumi.runtime.Mocks):
    """Mocks that answer like AWS would; see the module docstring.

    ``answers`` (default: none) supplies invoke results and other stacks' outputs;
    ``regions`` (default: none, nothing checked) fails AWS calls made without a region.
    """

    def __init__(
        self,
        identity: Identity | None = None,
        mode: Mode = "up",
        answers: Answers | None = None,
        regions: RegionCheck | None = None,
    ) -> None:
        self.identity = identity or Identity()
        self.mode: Mode = mode
        self.answers = answers or Answers()
        self.regions = regions

    # --- resources -------------------------------------------------------------------

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        inputs = dict(args.inputs)
        read = bool(getattr(args, "read", False))
        if args.typ == STACK_REFERENCE:
            return self._stack_reference(args, inputs)
        self._check_region(args.typ, args.name, str(args.provider or ""), inputs)
        if getattr(args, "remote", False):
            return None, self._component_outputs(args.typ, args.name, inputs, resource_seed(args))
        if self.mode == "preview" and not read:
            # Leave the id and every computed output unknown, as a real preview does.
            return None, inputs
        supplied = self.answers.resources.get(args.name, {})
        if args.typ == DYNAMIC_RESOURCE:
            resource_id, outputs = self._dynamic(args.name, inputs, resource_seed(args))
            return resource_id, {**outputs, **supplied}
        seed = resource_seed(args)
        physical = physical_name(args.name, inputs, seed)
        built = (
            dict(BUILDERS[args.typ](self.identity, args.name, physical, inputs, seed))
            if (args.typ in BUILDERS)
            else {}
        )
        if read and args.resource_id:
            resource_id = args.resource_id
        else:
            resource_id = str(
                built.get("id")
                or provider_id(args.typ, inputs, {**inputs, **built}, seed)
                or self._id(args.typ, args.name, inputs, seed)
            )
        subject = Subject(self.identity, args.typ, args.name, physical, seed, resource_id)
        known = {**inputs, **built}
        cls = sdk_schema.resource_class(args.typ)
        derived = fill(cls, subject, known, lists=False) if cls is not None else {}
        if cls is None and args.typ.startswith("aws:") and "arn" not in known:
            derived["arn"] = subject.arn()
        outputs = {**derived, **known, **supplied, "id": resource_id}
        if args.typ.startswith("aws:") and "tags" in inputs:
            outputs["tagsAll"] = dict(inputs.get("tags") or {})
        return resource_id, outputs

    def _id(self, typ: str, name: str, inputs: Mapping[str, Any], seed: str) -> str:
        if typ in ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"):
            return str(inputs.get("bucket") or f"{name}-{seed[:12]}")  # a bucket's id is its name
        prefix = ID_PREFIXES.get(typ)
        if prefix:
            return prefix + seed[:17]
        shaped = Subject(self.identity, typ, name, name, seed).own_id()
        if shaped != name:
            return shaped
        for key in ("name", "bucket", "identifier", "family"):
            if isinstance(inputs.get(key), str):
                return str(inputs[key])
        return f"{name}-{seed[:7]}"

    def _check_region(self, typ: str, name: str, provider: str, inputs: Mapping[str, Any]) -> None:
        if self.regions is None:
            return
        if typ == AWS_PROVIDER:
            self.regions.explicit_provider(name, inputs)
        elif typ.startswith("aws:") and not provider:
            self.regions.default_provider()

    def _stack_reference(
        self, args: pulumi.runtime.MockResourceArgs, inputs: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        stack = str(args.resource_id or inputs.get("name") or args.name)
        supplied = self.answers.stack_references
        project = pulumi.get_project()
        found = stack_outputs.find(supplied, stack, project)
        if found is None:
            raise stack_outputs.missing(stack, supplied, project)
        values = found.program_values()
        # Secret outputs travel wrapped, as the engine sends them: the SDK then marks
        # ``outputs`` secret, and ``get_output`` of a secret name returns a secret Output.
        outputs = {
            key: {wire.SIG_KEY: wire.SECRET_SIG, "value": value}
            if key in found.secret_names
            else value
            for key, value in values.items()
        }
        secret_names = sorted(found.secret_names & set(values))
        return stack, {"name": stack, "outputs": outputs, "secretOutputNames": secret_names}

    def _component_outputs(
        self, typ: str, name: str, inputs: Mapping[str, Any], seed: str
    ) -> dict[str, Any]:
        # A remote component's outputs are what its provider computes, never its inputs
        # echoed back (an input ``natGateways`` strategy is no ``Sequence[NatGateway]``).
        if self.mode == "preview":
            return {}
        physical = physical_name(name, inputs, seed)
        built = (
            BUILDERS[typ](self.identity, name, physical, inputs, seed) if typ in BUILDERS else {}
        )
        cls = sdk_schema.resource_class(typ)
        subject = Subject(self.identity, typ, name, physical, seed)
        # Unlike a plain resource's, a component's id lists (``public_subnet_ids``) name the
        # children it created, so they are not empty: three, as awsx spreads over three AZs.
        derived = fill(cls, subject, built, id_count=3) if cls is not None else {}
        return {**derived, **built}

    def _dynamic(
        self, name: str, inputs: Mapping[str, Any], seed: str
    ) -> tuple[str, dict[str, Any]]:
        # The provider's ``create`` is not run. The outputs only it computes (props the program
        # passed as ``None``) never reach the engine, so they cannot be derived here.
        return f"{name}-{seed[:7]}", dict(inputs)

    # --- look-ups ---------------------------------------------------------------------

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        self._check_region(args.token, args.token, str(args.provider or ""), {})
        # The mock monitor iterates the failure list, so "no failures" must be [] not None.
        return look_up(self.identity, args.token, args.args, self.answers), []


__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_REGION",
    "FakeCloud",
    "Identity",
    "Mode",
    "render_policy_document",
]
