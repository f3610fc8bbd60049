"""The stack page (`platformkit preview --format html`) in a real Chromium, from file://.

The dev stack runs through the policy pack with the dev config, one advisory rule raised to
mandatory so the page carries both kinds of violation. Screenshots go to the ``artifacts``
directory: the top of the page, the violations-only view, and a phone-sized view.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from platformkit.preview.policy_gate import run_policy_preview
from platformkit.preview.report_html import render_html
from platformkit.preview.result import PreviewResult
from platformkit.preview.verdicts import GateReport
from tests.browser.conftest import DESKTOP, PHONE

REPO = Path(__file__).resolve().parents[2]
RAISED = "alb-deletion-protection"
"""Advisory in policies/config/dev.json; raised to mandatory here."""
MANDATORY_RED = "rgb(180, 35, 24)"
"""``--mandatory`` in assets/stack_page.css: the left border of a mandatory verdict."""

RESOURCES_JS = """
return Array.from(document.querySelectorAll('li.resource')).map(function (li) {
  return {urn: li.dataset.urn, visible: li.checkVisibility()};
});
"""
VERDICTS_JS = """
return Array.from(document.querySelectorAll('li.verdict')).map(function (li) {
  return {
    urn: li.closest('li.resource').dataset.urn,
    classes: li.className,
    rule: li.dataset.rule,
    text: li.innerText,
    visible: li.checkVisibility(),
    border: getComputedStyle(li).borderLeftColor,
  };
});
"""


@pytest.fixture(scope="module")
def gated_dev(tmp_path_factory: pytest.TempPathFactory) -> tuple[PreviewResult, Path]:
    """The dev stack through the pack, and its page written to a file."""
    directory = tmp_path_factory.mktemp("stack-page")
    config = json.loads((REPO / "policies" / "config" / "dev.json").read_text(encoding="utf-8"))
    assert config[RAISED] == "advisory"
    config[RAISED] = "mandatory"
    config_file = directory / "dev-strict.json"
    config_file.write_text(json.dumps(config), encoding="utf-8")
    result = run_policy_preview(REPO, "dev", "up", [REPO / "policies"], [config_file])
    page = directory / "dev.html"
    page.write_text(render_html(result), encoding="utf-8")
    return result, page


def report_of(result: PreviewResult) -> GateReport:
    report = result.policy
    assert report is not None
    return report


def open_page(browser: Any, page: Path) -> None:
    browser.get(page.resolve().as_uri())
    assert browser.title.startswith("ecommerce-analytics / dev")


def test_every_resource_and_violation_is_shown(
    browser: Any, gated_dev: tuple[PreviewResult, Path], artifacts: Path
) -> None:
    result, page = gated_dev
    report = report_of(result)
    assert report.mandatory and report.advisory
    open_page(browser, page)
    browser.save_screenshot(str(artifacts / "stack-page.png"))

    resources = browser.execute_script(RESOURCES_JS)
    assert sorted(r["urn"] for r in resources) == sorted(
        [result.stack_urn, *(r.urn for r in result.resources)]
    )
    assert all(r["visible"] for r in resources)

    verdicts = browser.execute_script(VERDICTS_JS)
    shown = {(v["urn"], v["rule"]): v for v in verdicts}
    assert len(verdicts) == len(report.active)
    for violation in report.active:
        verdict = shown[(violation.urn, violation.rule)]
        assert verdict["visible"]
        assert violation.message in verdict["text"]
        if violation in report.mandatory:
            assert "mandatory" in verdict["classes"].split()
            assert verdict["border"] == MANDATORY_RED
        else:
            assert "advisory" in verdict["classes"].split()

    counts = {
        cell.get_attribute("data-count"): cell.find_element("css selector", "dd").text
        for cell in browser.find_elements("css selector", "[data-count]")
    }
    assert counts["mandatory"] == str(len(report.mandatory))
    assert counts["advisory"] == str(len(report.advisory))
    assert counts["resources"] == str(result.total)
    assert_no_console_errors(browser)


def test_the_filter_keeps_matches_and_their_ancestors(
    browser: Any, gated_dev: tuple[PreviewResult, Path], artifacts: Path
) -> None:
    result, page = gated_dev
    violating = next(v for v in report_of(result).mandatory if v.rule == RAISED)
    record = next(r for r in result.resources if r.urn == violating.urn)
    open_page(browser, page)
    browser.find_element("id", "filter").send_keys(RAISED)
    visible = {r["urn"] for r in browser.execute_script(RESOURCES_JS) if r["visible"]}
    assert visible == {result.stack_urn, record.parent, record.urn}
    assert browser.find_element("id", "filter-status").text == (
        f"1 of {result.total} resources match"
    )

    browser.find_element("id", "filter").clear()
    browser.find_element("id", "only-violations").click()
    browser.set_window_size(DESKTOP[0], 1600)
    browser.save_screenshot(str(artifacts / "stack-page-violations.png"))
    visible = {r["urn"] for r in browser.execute_script(RESOURCES_JS) if r["visible"]}
    assert {v.urn for v in report_of(result).active} <= visible
    assert len(visible) < result.total
    assert_no_console_errors(browser)


def test_collapsing_a_component_hides_its_children(
    browser: Any, gated_dev: tuple[PreviewResult, Path]
) -> None:
    result, page = gated_dev
    open_page(browser, page)
    component = browser.find_element("css selector", "#tree li.component li.component summary")
    component.click()
    hidden = [r for r in browser.execute_script(RESOURCES_JS) if not r["visible"]]
    assert hidden
    browser.find_element("id", "expand-all").click()
    assert all(r["visible"] for r in browser.execute_script(RESOURCES_JS))


def test_the_page_fits_a_phone(
    browser: Any, gated_dev: tuple[PreviewResult, Path], artifacts: Path
) -> None:
    _, page = gated_dev
    browser.set_window_size(*PHONE)
    open_page(browser, page)
    browser.save_screenshot(str(artifacts / "stack-page-phone.png"))
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;"
    )
    assert overflow <= 0
    assert_no_console_errors(browser)


def assert_no_console_errors(browser: Any) -> None:
    entries = browser.get_log("browser")
    assert [e for e in entries if e["level"] in ("SEVERE", "WARNING")] == []
