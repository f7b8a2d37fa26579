"""The RDS query protocol's XML, as the fake account writes it: responses, errors and member edits."""

from __future__ import annotations

import datetime as dt
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from typing import Any

from rdsca import clock

NS = "http://rds.amazonaws.com/doc/2014-10-31/"
ET.register_namespace("", NS)

#: HTTP status per error code (AWS answers 404 for a missing certificate, 403 for a refused caller).
STATUS = {
    "AccessDenied": "403 Forbidden",
    "InvalidClientTokenId": "403 Forbidden",
    "CertificateNotFound": "404 Not Found",
    "DBInstanceNotFound": "404 Not Found",
    "DBClusterNotFoundFault": "404 Not Found",
}


def iso(value: dt.datetime) -> str:
    return clock.utc_iso(value)


def tag(name: str) -> str:
    return f"{{{NS}}}{name}"


def el(parent: ET.Element, name: str, text: Any = None) -> ET.Element:
    child = ET.SubElement(parent, tag(name))
    if text is not None:
        child.text = str(text).lower() if isinstance(text, bool) else str(text)
    return child


def replace(parent: ET.Element, name: str, text: Any = None) -> ET.Element:
    """Set member ``name`` of ``parent`` (dropping what moto wrote there)."""
    for old in parent.findall(tag(name)):
        parent.remove(old)
    return el(parent, name, text)


def child(parent: ET.Element, name: str) -> ET.Element:
    """Member ``name`` of ``parent``, created when absent."""
    found = parent.find(tag(name))
    return found if found is not None else el(parent, name)


def text(parent: ET.Element, name: str) -> str:
    return parent.findtext(tag(name)) or ""


def response(action: str, fill: Callable[[ET.Element], None]) -> bytes:
    root = ET.Element(tag(f"{action}Response"))
    fill(el(root, f"{action}Result"))
    el(el(root, "ResponseMetadata"), "RequestId", uuid.uuid4())
    return ET.tostring(root, xml_declaration=True, encoding="utf-8")


def error(code: str, message: str) -> tuple[str, bytes]:
    """(HTTP status, body) of an AWS query-protocol error."""
    root = ET.Element(tag("ErrorResponse"))
    detail = el(root, "Error")
    el(detail, "Type", "Sender")
    el(detail, "Code", code)
    el(detail, "Message", message)
    el(root, "RequestId", uuid.uuid4())
    return STATUS.get(code, "400 Bad Request"), ET.tostring(root, xml_declaration=True, encoding="utf-8")


def members(parent: ET.Element, name: str, values: Sequence[Any], item: str = "member") -> None:
    """A list member: ``<name><item>...</item></name>`` (dicts become nested members)."""
    container = el(parent, name)
    for value in values:
        if isinstance(value, dict):
            structure(el(container, item), value)
        else:
            el(container, item, value)


def structure(parent: ET.Element, value: dict[str, Any]) -> None:
    for key, member in value.items():
        if isinstance(member, dict):
            structure(el(parent, key), member)
        elif isinstance(member, list):
            members(parent, key, member)
        elif member is not None:
            el(parent, key, member)
