"""What the Open311 endpoint offers: the discovery document, the service list (one service per active
leaf case category) and each service's definition (its attributes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from civicgrid.cases import categories
from civicgrid.cases.models import CaseCategory
from civicgrid.config import Settings
from civicgrid.core.errors import InvalidInput, NotFound
from civicgrid.open311 import attributes

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this server's Open311 interface last changed (the discovery document's `changeset`).
CHANGESET = "2026-11-29T00:00:00+08:00"
FORMATS = ["text/xml", "application/json"]


def discovery(settings: Settings, base_url: str) -> dict[str, Any]:
    return {
        "changeset": CHANGESET,
        "contact": settings.open311_contact,
        "key_service": settings.open311_key_service,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base_url,
                "changeset": CHANGESET,
                "type": "production" if settings.mode == "production" else "test",
                "formats": FORMATS,
            }
        ],
    }


def is_hidden(settings: Settings, category_code: str) -> bool:
    """Reports of these classes are taken but never published through the unauthenticated GET."""
    return category_code[:2] in settings.open311_hidden_classes


def _leaves(session: Session) -> tuple[list[CaseCategory], dict[str, CaseCategory]]:
    active = categories.list_categories(session)
    classes = {c.code: c for c in active if c.depth == 1}
    # A category whose class was retired is not offered either.
    return [c for c in active if c.depth == 2 and c.parent_code in classes], classes


def services(session: Session, settings: Settings) -> list[dict[str, Any]]:
    leaves, classes = _leaves(session)
    defs = attributes.definitions()
    out = []
    for category in leaves:
        group = classes[category.parent_code or ""]
        description = f"{category.name_zh} ({category.name_en})"
        if is_hidden(settings, category.code):
            description += "；此类报告受理但不公开 (taken, never published)"
        out.append(
            {
                "service_code": category.code,
                "service_name": category.name_zh,
                "description": description,
                "metadata": bool(defs.for_category(category.code)),
                "type": "realtime",
                "keywords": ",".join([category.name_zh, category.name_en, group.name_zh, group.name_en]),
                "group": group.name_zh,
            }
        )
    return out


def service_category(session: Session, code: str, *, missing: type[NotFound] | type[InvalidInput]) -> CaseCategory:
    """The leaf category a service code names; `missing` says how to refuse an unknown one (404 or 400)."""
    leaves, _classes = _leaves(session)
    found = next((c for c in leaves if c.code == code), None)
    if found is None:
        raise missing(
            f"there is no service {code!r}; GET services.json lists the service codes",
            details=[{"field": "service_code", "problem": "unknown service"}],
        )
    return found


def definition(session: Session, code: str) -> dict[str, Any]:
    category = service_category(session, code, missing=NotFound)
    return {
        "service_code": category.code,
        "attributes": [a.published() for a in attributes.definitions().for_category(category.code)],
    }
