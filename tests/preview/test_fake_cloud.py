"""``FakeCloud``'s answers for resources whose outputs programs build names from."""

from __future__ import annotations

import base64
import re
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from pulumi.runtime import MockResourceArgs

from platformkit.preview.fake_cloud import FakeCloud
from platformkit.preview.recording import run_under_mocks

RANDOM_ID = "random:index/randomId:RandomId"


def random_id(
    name: str = "db-final-snapshot-suffix", mode: Any = "up", **inputs: Any
) -> tuple[str | None, dict[str, Any]]:
    # Numbers arrive from the engine as floats, as they do here.
    args = MockResourceArgs(RANDOM_ID, name, {"byteLength": 4.0, **inputs})
    return FakeCloud(mode=mode).new_resource(args)


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_random_id_encodings_all_encode_the_same_bytes() -> None:
    resource_id, outputs = random_id()
    data = bytes.fromhex(outputs["hex"])
    assert len(data) == 4
    assert outputs["hex"] == outputs["hex"].lower()
    assert "=" not in outputs["b64Url"]
    assert b64url_decode(outputs["b64Url"]) == data
    assert base64.b64decode(outputs["b64Std"], validate=True) == data
    assert outputs["dec"] == str(int.from_bytes(data, "big"))
    assert resource_id == outputs["id"] == outputs["b64Url"]  # the provider's id is the b64Url


@pytest.mark.parametrize("byte_length", [1.0, 8.0, 40.0])
def test_random_id_has_the_requested_length(byte_length: float) -> None:
    _, outputs = random_id(byteLength=byte_length)
    assert len(outputs["hex"]) == 2 * int(byte_length)
    assert base64.b64decode(outputs["b64Std"]) == bytes.fromhex(outputs["hex"])


def test_random_id_is_stable_per_resource_and_differs_between_resources() -> None:
    assert random_id()[1]["hex"] == random_id()[1]["hex"]
    assert random_id("a")[1]["hex"] != random_id("b")[1]["hex"]


def test_random_id_prefix_prefixes_every_encoding_but_the_id() -> None:
    resource_id, outputs = random_id(prefix="snap-")
    bare = random_id()[1]
    for key in ("hex", "b64Url", "b64Std", "dec"):
        assert outputs[key] == "snap-" + bare[key]
    assert resource_id == outputs["id"] == bare["id"]


def test_random_id_stays_unknown_in_preview_mode() -> None:
    resource_id, outputs = random_id(mode="preview", keepers={"identifier": "db-dev"})
    assert resource_id is None
    assert outputs == {"byteLength": 4.0, "keepers": {"identifier": "db-dev"}}


# --- ids: unique per URN, shaped like the provider's ----------------------------------------


class _Tier(pulumi.ComponentResource):
    """A component creating a security group with a fixed name, as two real ones did."""

    def __init__(self, token: str, name: str) -> None:
        super().__init__(token, name)
        self.group = aws.ec2.SecurityGroup(
            "analytics-sg", vpc_id="vpc-0abc", opts=pulumi.ResourceOptions(parent=self)
        )
        self.register_outputs({})


def test_same_named_resources_under_different_parents_get_different_ids() -> None:
    def program() -> None:
        _Tier("test:index:Database", "analytics")
        _Tier("test:index:WebService", "analytics")

    recording = run_under_mocks(program, project="test", stack="dev", config={})
    groups = recording.of_type("aws:ec2/securityGroup:SecurityGroup")
    assert len(groups) == 2 and groups[0].urn != groups[1].urn
    ids = [g.outputs["id"] for g in groups]
    assert ids[0] != ids[1]
    # Shaped like EC2's: "sg-" and 17 hex digits; and the ARN names the group's own id.
    for group in groups:
        assert re.fullmatch(r"sg-[0-9a-f]{17}", group.outputs["id"])
        assert group.outputs["arn"].endswith(f":security-group/{group.outputs['id']}")


def test_ids_follow_the_provider_shape_of_their_type() -> None:
    def program() -> None:
        bucket = aws.s3.Bucket("logs")
        aws.s3.BucketVersioning(
            "logs-versioning", bucket=bucket.id, versioning_configuration={"status": "Enabled"}
        )
        aws.kms.Key("key")
        aws.ecs.Cluster("ecs")

    recording = run_under_mocks(program, project="test", stack="dev", config={})
    bucket = recording.named("logs")
    # S3 configuration resources are identified by their bucket's name, as in AWS.
    assert recording.named("logs-versioning").outputs["id"] == bucket.outputs["bucket"]
    key = recording.named("key").outputs
    assert key["id"] == key["keyId"] and re.fullmatch(r"[0-9a-f-]{36}", key["id"])
    cluster = recording.named("ecs").outputs
    assert cluster["id"] == cluster["arn"] and cluster["id"].startswith("arn:aws:ecs:")


def test_looking_up_a_type_leaves_the_sdk_package_usable() -> None:
    """The fake cloud finds ``aws:iam/role:Role`` in ``pulumi_aws.iam.role``; importing that
    file first once left the lazy ``pulumi_aws.iam`` without ``Role`` for every later program
    in the process (a fresh interpreter: this process has loaded ``pulumi_aws.iam`` already)."""
    import subprocess
    import sys

    script = (
        "from platformkit.preview import sdk_schema\n"
        "assert sdk_schema.resource_class('aws:iam/role:Role') is not None\n"
        "import pulumi_aws\n"
        "print(pulumi_aws.iam.Role.__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Role"


_CONCURRENT_LOOKUPS = """
import importlib.abc
import sys
import threading

import pulumi_aws  # its packages stay lazy: pulumi_aws.rds is not loaded yet

from platformkit.preview import sdk_schema

loading, release = threading.Event(), threading.Event()


class HoldTheLoad(importlib.abc.MetaPathFinder):
    # Keeps the first lookup inside the load of pulumi_aws.rds (at its ``instance`` file)
    # until the second lookup has run or is waiting.
    def find_spec(self, name, path=None, target=None):
        if name == "pulumi_aws.rds.instance":
            loading.set()
            release.wait(60)
        return None


sys.meta_path.insert(0, HoldTheLoad())
found = {}


def look_up(token):
    found[token] = sdk_schema.resource_class(token)


first = threading.Thread(target=look_up, args=("aws:rds/instance:Instance",))
first.start()
assert loading.wait(120), "pulumi_aws.rds was not loaded by the first lookup"
second = threading.Thread(target=look_up, args=("aws:rds/parameterGroup:ParameterGroup",))
second.start()
second.join(2)  # returns at once without the lock; waits for the first lookup with it
release.set()
first.join(120)
second.join(120)
print(found["aws:rds/parameterGroup:ParameterGroup"])
print(sdk_schema.resource_class("aws:rds/parameterGroup:ParameterGroup"))
"""


def test_concurrent_lookups_find_a_type_while_its_package_loads() -> None:
    """The mock runtime asks the fake cloud from several threads at once (the SDK's executor,
    a fake engine's gRPC workers). A lookup made while another thread was loading the lazy
    ``pulumi_aws.rds`` saw it half loaded, found no ``ParameterGroup``, and the cached miss
    left every later program in the process without the group's outputs (its ``name``, so the
    instance's ``parameterGroupName`` was dropped). A fresh interpreter: this one has loaded
    ``pulumi_aws.rds`` already."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _CONCURRENT_LOOKUPS],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    during, after = done.stdout.split("\n")[:2]
    assert during == after == "<class 'pulumi_aws.rds.parameter_group.ParameterGroup'>"
