"""The JSON report: schema, stability, computed values, realistic fakes and secret redaction."""

from __future__ import annotations

import json
import re

import jsonschema  # no stubs installed

from platformkit.preview.report_json import load_schema, render_json
from platformkit.preview.result import run_preview
from tests.preview.conftest import CIPHERTEXT, EXAMPLE, PROGRAMS, document, resource


def _validate(doc: dict[str, object]) -> None:
    jsonschema.Draft202012Validator.check_schema(load_schema())
    jsonschema.validate(doc, load_schema(), cls=jsonschema.Draft202012Validator)


def test_the_foreign_example_validates_against_the_schema(example_up) -> None:
    doc = document(example_up)
    _validate(doc)
    assert doc["project"] == "aws-py-static-site"
    assert doc["resources"][0]["type"] == "pulumi:pulumi:Stack"
    assert doc["summary"]["byType"]["aws:cloudfront/distribution:Distribution"] == 1
    assert doc["summary"]["total"] == len(doc["resources"])
    policy = resource(doc, "site-policy")
    assert json.loads(policy["inputs"]["policy"])["Statement"][0]["Sid"] == "AllowCloudFrontRead"
    assert doc["outputs"]["url"].startswith("https://d") and doc["outputs"]["url"].endswith(
        ".cloudfront.net"
    )


def test_preview_mode_leaves_computed_values_unknown(basic_preview) -> None:
    doc = document(basic_preview)
    _validate(doc)
    assert doc["mode"] == "preview"
    log_group = resource(doc, "app-group")
    assert log_group["id"] == "<computed>"
    assert "arn" not in log_group["outputs"]
    assert doc["outputs"]["logGroupArn"] == "<computed>"
    assert resource(doc, "data-policy")["inputs"]["bucket"] == "<computed>"
    # Components have no id at all.
    assert resource(doc, "app")["id"] is None


def test_up_mode_fakes_realistic_arns_in_the_stacks_region(basic_up) -> None:
    doc = document(basic_up)
    _validate(doc)
    arn = resource(doc, "app-group")["outputs"]["arn"]
    assert re.fullmatch(r"arn:aws:logs:eu-west-1:123456789012:log-group:app-group-\w+", arn)
    assert doc["outputs"]["logGroupArn"] == arn
    assert resource(doc, "data-policy")["inputs"]["bucket"] == doc["outputs"]["bucketName"]


def test_the_tree_links_children_to_their_parent(basic_up) -> None:
    doc = document(basic_up)
    stack, component = doc["resources"][0], resource(doc, "app")
    assert component["parent"] == stack["urn"]
    assert component["custom"] is False
    assert resource(doc, "app-topic")["parent"] == component["urn"]
    assert resource(doc, "app-topic")["urn"] == (
        "urn:pulumi:dev::basic::basic:index:Logs$aws:sns/topic:Topic::app-topic"
    )
    assert resource(doc, "data-policy")["source"] == {
        "uri": "__main__.py",
        "line": 19,
        "column": 0,
    }


def test_secrets_are_redacted(basic_up) -> None:
    text = render_json(basic_up)
    assert CIPHERTEXT not in text
    assert "plaintext-token-must-not-leak" not in text
    doc = json.loads(text)
    token = resource(doc, "api-token")
    assert token["inputs"]["value"] == "[secret]"
    assert token["secretInputs"] == ["value"]
    assert token["outputs"]["value"] == "[secret]"
    assert doc["outputs"]["token"] == "[secret]"
    assert doc["outputs"]["dbPassword"] == "[secret]"


def test_the_report_is_identical_across_runs(example_up) -> None:
    again = run_preview(EXAMPLE, "dev", "up")
    assert render_json(again) == render_json(example_up)
    first = render_json(run_preview(PROGRAMS / "basic", "dev", "preview"))
    assert render_json(run_preview(PROGRAMS / "basic", "dev", "preview")) == first
