"""`--format html`: the stack page, read back with the standard library's HTML parser."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from platformkit.cli import main
from platformkit.preview.policy_gate import run_policy_preview
from platformkit.preview.report_html import render_html
from platformkit.preview.result import PreviewResult
from tests.preview.conftest import PROGRAMS, REPO

PACK = REPO / "policies"
DEV_CONFIG = REPO / "policies" / "config" / "dev.json"
HOSTILE = PROGRAMS / "hostile_names"
SCRIPT_NAME = '<script>document.title="pwned"</script>'
QUOTED_NAME = 'say "hi" \\ <img src=x onerror=alert(1)>'


class Page(HTMLParser):
    """The page's resources (``li.resource``: URN -> their text), verdicts and tags."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.resources: dict[str, list[str]] = {}
        self.verdicts: list[tuple[str, str, str]] = []
        """(URN of the resource holding it, class, rule)."""
        self.inline: dict[str, list[str]] = {"style": [], "script": []}
        self._open: list[str] = []
        self._raw: str | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        if tag == "li" and "resource" in classes:
            urn = found.get("data-urn") or ""
            self.resources[urn] = []
            self._open.append(urn)
        elif tag == "li" and "verdict" in classes:
            self.verdicts.append((self._open[-1], " ".join(classes), found.get("data-rule") or ""))
        if tag in self.inline:
            self._raw = tag

    def handle_endtag(self, tag: str) -> None:
        self._raw = None

    def handle_data(self, data: str) -> None:
        if self._raw is not None:
            self.inline[self._raw].append(data)
        elif self._open:
            self.resources[self._open[-1]].append(data)

    def text_of(self, urn: str) -> str:
        return "".join(self.resources[urn])


@pytest.fixture(scope="module")
def hostile_gated() -> PreviewResult:
    """The hostile-names program through the policy pack with the dev config."""
    return run_policy_preview(HOSTILE, "test", "up", [PACK], [DEV_CONFIG])


def test_every_resource_is_on_the_page_without_a_policy_pack(basic_up: PreviewResult) -> None:
    text = render_html(basic_up)
    page = Page(text)
    assert set(page.resources) == {basic_up.stack_urn, *(r.urn for r in basic_up.resources)}
    for record in basic_up.resources:
        assert record.type in page.text_of(record.urn)
        assert record.name in page.text_of(record.urn)
    assert page.verdicts == []
    assert "No policy pack ran" in text


def test_children_sit_inside_their_component(basic_up: PreviewResult) -> None:
    text = render_html(basic_up)
    app = next(r for r in basic_up.resources if r.name == "app")
    start = text.index(f'data-urn="{app.urn}"')
    component = text[start : text.index("</details>", start)]
    assert "app-group" in component and "app-topic" in component
    assert "data-policy" not in component


def test_violations_sit_on_the_violating_resource(hostile_gated: PreviewResult) -> None:
    report = hostile_gated.policy
    assert report is not None and report.mandatory and report.advisory
    page = Page(render_html(hostile_gated))
    expected = {
        (v.urn, "verdict mandatory" if v in report.mandatory else "verdict advisory", v.rule)
        for v in report.active
    }
    assert set(page.verdicts) == expected
    for violation in report.active:
        assert violation.message in page.text_of(violation.urn)


def test_the_summary_counts_the_verdicts(hostile_gated: PreviewResult) -> None:
    report = hostile_gated.policy
    assert report is not None
    text = render_html(hostile_gated)
    counts = dict(re.findall(r'data-count="(\w+)"><dt>[^<]*</dt><dd>(\d+)</dd>', text))
    assert counts == {
        "resources": str(hostile_gated.total),
        "mandatory": str(len(report.mandatory)),
        "advisory": str(len(report.advisory)),
        "waived": str(len(report.waived)),
    }
    assert "Policies FAILED" in text


def test_names_and_messages_are_escaped(hostile_gated: PreviewResult) -> None:
    text = render_html(hostile_gated)
    page = Page(text)
    # The page's own script is the only one; the names come back as text.
    assert page.tags.count("script") == 1 and page.tags.count("img") == 0
    assert SCRIPT_NAME not in text and QUOTED_NAME not in text
    names = {r.name for r in hostile_gated.resources}
    assert {SCRIPT_NAME, QUOTED_NAME} <= names
    for record in hostile_gated.resources:
        assert record.name in page.text_of(record.urn)
    waf = f"Internet-facing load balancer '{SCRIPT_NAME}'"
    assert any(waf in page.text_of(urn) for urn in page.resources)


def test_only_the_inline_style_and_script_may_run(basic_up: PreviewResult) -> None:
    text = render_html(basic_up)
    page = Page(text)
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text)
    assert policy is not None
    for tag in ("style", "script"):
        (body,) = page.inline[tag]
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"{tag}-src 'sha256-{digest}'" in policy.group(1)
    assert "default-src 'none'" in policy.group(1)
    assert "http://" not in text and "https://" not in text


def test_html_to_a_file_keeps_the_gate_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "pages" / "hostile.html"
    argv = ["preview", str(HOSTILE), "-s", "test", "--policy-pack", str(PACK)]
    argv += ["--policy-pack-config", str(DEV_CONFIG), "--format", "html", "-o", str(target)]
    assert main(argv) == 1
    assert capsys.readouterr().out == ""
    assert Page(target.read_text(encoding="utf-8")).verdicts


def test_html_goes_to_standard_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", str(PROGRAMS / "basic"), "-s", "dev", "--format", "html"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("<!DOCTYPE html>") and out.rstrip().endswith("</html>")


def test_a_waived_violation_shows_its_waiver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waivers = tmp_path / "waivers.json"
    waiver = {
        "rule": "alb-drop-invalid-headers",
        "resource": "*pwned*",
        "reason": "legacy clients send <odd> headers; TICKET-7",
        "owner": "qa@example.com",
        "expires": "2999-12-31",
    }
    waivers.write_text(json.dumps({"waivers": [waiver]}), encoding="utf-8")
    monkeypatch.setenv("PLATFORMKIT_WAIVERS", str(waivers))
    result = run_policy_preview(HOSTILE, "test", "up", [PACK], [DEV_CONFIG])
    report = result.policy
    assert report is not None and len(report.waived) == 1
    page = Page(render_html(result))
    balancer = next(r.urn for r in result.resources if r.name == SCRIPT_NAME)
    assert (balancer, "verdict waived", "alb-drop-invalid-headers") in page.verdicts
    text = page.text_of(balancer)
    assert "waived (mandatory)" in text
    assert f"Waiver: {waiver['reason']} (owner qa@example.com, expires 2999-12-31)" in text
    assert "1 waived" in text
