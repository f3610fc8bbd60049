"""The components reference in docs/ is generated from the code and must stay in sync."""

from __future__ import annotations

from pathlib import Path

import pytest

from platformkit import reference

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "components.md"


def test_components_reference_is_up_to_date() -> None:
    current = DOCUMENT.read_text(encoding="utf-8")
    assert reference.splice(current, reference.render()) == current, (
        "docs/components.md is stale: run `make docs`"
    )


def test_reference_lists_every_argument_and_output() -> None:
    text = reference.render()
    for field in ("`az_count`", "`certificate_arn`", "`multi_az`", "`health_check_path`"):
        assert field in text
    for output in ("`vpc_id`", "`listener_arn`", "`master_secret_arn`", "`url`"):
        assert output in text


def test_check_mode_reports_a_stale_document(tmp_path: Path) -> None:
    stale = tmp_path / "components.md"
    stale.write_text(f"intro\n{reference.BEGIN}\nold\n{reference.END}\n", encoding="utf-8")
    assert reference.main([str(stale), "--check"]) == 1
    assert reference.main([str(stale)]) == 0
    assert reference.main([str(stale), "--check"]) == 0
    assert "`NetworkArgs`" in stale.read_text(encoding="utf-8")


def test_missing_markers_are_an_error() -> None:
    with pytest.raises(ValueError, match="lacks the markers"):
        reference.splice("no markers here", "generated")


def test_unknown_class_is_an_error() -> None:
    from platformkit import network

    with pytest.raises(LookupError, match="NoSuchArgs"):
        reference.class_fields(network, "NoSuchArgs")
