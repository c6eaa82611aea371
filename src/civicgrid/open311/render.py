"""Open311 answers in JSON and XML, and the spec's error body.

JSON lists are top-level arrays; XML wraps each list in its plural element (`<service_requests>`
holding `<request>`s, `<services>` holding `<service>`s, `<errors>` holding `<error>`s) and each nested
list the same way (`<notes><note>`, `<values><value>`, `<endpoints><endpoint>`, `<formats><format>`).
Booleans are `true`/`false`, absent values empty elements, times ISO 8601 with their offset.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any, Literal

from fastapi.responses import Response

from civicgrid.core.clock import as_utc

Format = Literal["json", "xml"]
FORMATS: tuple[Format, ...] = ("json", "xml")
MEDIA_TYPES: dict[Format, str] = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# The element of one item of a list, by the list's element name.
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "notes": "note",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "service_request_updates": "request_update",
    "tokens": "token",
}


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def timestamp(value: datetime | None, tz: tzinfo) -> str | None:
    """ISO 8601 with the offset of `tz` (stored times are UTC; SQLite returns them naive)."""
    return None if value is None else as_utc(value).astimezone(tz).isoformat(timespec="seconds")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    # Characters XML 1.0 cannot carry (a client's description may hold them) would break every reader.
    return _NOT_XML.sub("\ufffd", str(value))


def _append(parent: ET.Element, name: str, value: Any) -> None:
    element = ET.SubElement(parent, name)
    _fill(element, name, value)


def _fill(element: ET.Element, name: str, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _append(element, str(key), item)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        item_name = ITEM_NAMES.get(name, "item")
        for item in value:
            _append(element, item_name, item)
    else:
        element.text = _text(value)


def to_xml(root: str, body: Any) -> bytes:
    element = ET.Element(root)
    _fill(element, root, body)
    data: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=True)
    return data


def respond(fmt: Format, root: str, body: Any, *, status_code: int = 200) -> Response:
    """`body` (a list or, for discovery, an object) as JSON, or as XML under `<root>`."""
    if fmt == "xml":
        content = to_xml(root, body)
    else:
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(content, status_code=status_code, media_type=MEDIA_TYPES[fmt])


def error_response(fmt: Format, status_code: int, description: str) -> Response:
    """The spec's error body: `[{code, description}]`, the code being the HTTP status."""
    return respond(fmt, "errors", [{"code": status_code, "description": description}], status_code=status_code)


def format_of_path(path: str) -> Format:
    """The answer format a path asks for by its suffix (JSON when it names none we serve)."""
    return "xml" if path.lower().endswith(".xml") else "json"
