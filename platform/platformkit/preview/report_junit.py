"""The JUnit XML report of the policy gate, for CI systems that chart test results.

One ``<testsuite>`` per policy pack. Each (policy, resource) with a violation is a
``<testcase>``: a mandatory violation is a ``<failure>``, an advisory one passes with the
message in ``<system-out>``, a waived one is ``<skipped>`` with the waiver. Each policy that
reported nothing is one passing ``<testcase>`` named after the policy.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict

from platformkit.preview.result import PreviewResult
from platformkit.preview.verdicts import PackReport, Violation


def render_junit(result: PreviewResult) -> str:
    """The report as an XML document with a final newline."""
    report = result.policy
    packs = report.packs if report else []
    root = ET.Element("testsuites", name=f"platformkit preview {result.stack}")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for pack in packs:
        suite = _suite(pack, result)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("errors", "0")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _suite(pack: PackReport, result: PreviewResult) -> ET.Element:
    suite = ET.Element("testsuite", name=pack.name)
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("version", pack.version),
        ("directory", str(pack.directory)),
        ("project", result.project.name),
        ("stack", result.stack),
        ("mode", result.mode),
    ):
        ET.SubElement(properties, "property", name=name, value=value)
    grouped: dict[tuple[str, str], list[Violation]] = defaultdict(list)
    for violation in pack.violations:
        grouped[(violation.rule, violation.urn)].append(violation)
    tests = failures = skipped = 0
    for policy in pack.info.policies:
        keys = [key for key in grouped if key[0] == policy.name]
        level = pack.levels.get(policy.name, policy.enforcement_level)
        if not keys:
            if level == "disabled":
                continue
            tests += 1
            ET.SubElement(suite, "testcase", classname=pack.name, name=policy.name)
            continue
        for key in sorted(keys):
            violations = grouped[key]
            first = violations[0]
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{pack.name}.{policy.name}",
                name=f"{first.type} {first.name}".strip() or first.urn or result.stack_urn,
            )
            tests += 1
            text = "\n".join(_describe(v) for v in violations)
            active = [v for v in violations if v.waiver is None]
            mandatory = [v for v in active if v.level in ("mandatory", "remediate")]
            if mandatory:
                failures += 1
                failure = ET.SubElement(
                    case,
                    "failure",
                    message=mandatory[0].message.splitlines()[0] if mandatory[0].message else "",
                    type=mandatory[0].level,
                )
                failure.text = text
            elif not active:
                skipped += 1
                waiver = violations[0].waiver
                assert waiver is not None
                ET.SubElement(
                    case,
                    "skipped",
                    message=(
                        f"waived: {waiver.reason} (owner {waiver.owner}, expires {waiver.expires})"
                    ),
                )
            else:
                out = ET.SubElement(case, "system-out")
                out.text = text
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    return suite


def _describe(violation: Violation) -> str:
    waived = " (waived)" if violation.waiver is not None else ""
    return (
        f"[{violation.level}{waived}] {violation.rule} ({violation.severity}) on "
        f"{violation.urn}: {violation.message}"
    )
