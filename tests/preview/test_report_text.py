"""The text report: a tree like `pulumi preview`, outputs, and the summary."""

from __future__ import annotations

from platformkit.preview.report_text import render_text
from tests.preview.conftest import CIPHERTEXT


def test_tree_outputs_and_summary(basic_up) -> None:
    text = render_text(basic_up)
    lines = text.splitlines()
    assert lines[0].startswith("Previewing update (dev) of project basic")
    tree = [line for line in lines if line.startswith(" +   ")]
    assert tree[0].split() == ["+", "pulumi:pulumi:Stack", "basic-dev", "create"]
    assert " +   └─ basic:index:Logs" in text
    assert " +      ├─ aws:cloudwatch/logGroup:LogGroup" in text
    assert " +      └─ aws:sns/topic:Topic" in text
    # Type and name columns are aligned.
    assert len({line.index("create") for line in tree}) == 1
    assert "    azCount    : 3\n" in text
    assert "    dbPassword : [secret]\n" in text
    assert "Resources:\n    + 8 to create\n" in text
    assert "        aws:ssm/parameter:Parameter       2\n" in text


def test_unknown_outputs_in_preview_mode(basic_preview) -> None:
    text = render_text(basic_preview)
    assert "    bucketName : output<string>\n" in text
    # Inside a value, an unknown part is [unknown] and the known parts stay visible.
    assert "        bucket: [unknown]\n" in text
    assert '            team       : "analytics"\n' in text


def test_secrets_are_never_printed(basic_up, basic_preview) -> None:
    for result in (basic_up, basic_preview):
        text = render_text(result)
        assert CIPHERTEXT not in text
        assert "plaintext-token-must-not-leak" not in text


def test_the_foreign_example_shows_its_resources(example_up) -> None:
    text = render_text(example_up)
    for type_, name in [
        ("aws:s3/bucket:Bucket", "site-bucket"),
        ("aws:cloudfront/distribution:Distribution", "cdn"),
        ("aws:s3/bucketPolicy:BucketPolicy", "site-policy"),
    ]:
        assert any(type_ in line and f" {name} " in line for line in text.splitlines())
    assert "+ 12 to create" in text
