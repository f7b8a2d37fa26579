"""JUnit XML, which CI systems (GitLab, Jenkins, Azure Pipelines, CircleCI) render natively: one test case per
policy finding, a failure for each that fails the run. Built with the standard library's ElementTree."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

from rdsca.output import FAILING_LEVELS as FAILING


def document(
    suite: str,
    diagnostics: Iterable[dict[str, Any]],
    passed: Iterable[str] = (),
    suppressed: Iterable[dict[str, Any]] = (),
) -> str:
    """``diagnostics``: dicts with ``policy``, ``level``, ``message`` and ``address`` (or ``urn``); ``passed``: the
    names of what was checked and found nothing (one passing test case each); ``suppressed``: findings set aside
    (``rdsca.findings``), each a skipped test case with its reason."""
    findings = list(diagnostics)
    names = list(passed)
    skipped = list(suppressed)
    failures = sum(1 for d in findings if d.get("level") in FAILING)
    tests = str(len(findings) + len(names) + len(skipped))
    root = ET.Element("testsuites", name="rdsca", tests=tests, failures=str(failures))
    node = ET.SubElement(root, "testsuite", name=suite, tests=tests, failures=str(failures),
                         skipped=str(len(skipped)))
    for d in skipped:
        case = ET.SubElement(node, "testcase", classname=str(d.get("policy")),
                             name=str(d.get("address") or d.get("urn") or d.get("arn") or "-"))
        why = d["suppressed"]
        ET.SubElement(case, "skipped", message=f"suppressed: {why['reason']} ({why['location']})")
    for d in findings:
        case = ET.SubElement(node, "testcase", classname=str(d.get("policy")),
                             name=str(d.get("address") or d.get("urn") or d.get("name") or "-"))
        if d.get("level") in FAILING:
            ET.SubElement(case, "failure", type=str(d.get("policy")), message=str(d.get("message", ""))[:500]).text = (
                str(d.get("message", "")))
        else:
            ET.SubElement(case, "system-out").text = f"[{d.get('level')}] {d.get('message', '')}"
    for name in names:
        ET.SubElement(node, "testcase", classname="rdsca", name=name)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
