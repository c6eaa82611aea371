"""Factories for geo tests: principals, division CSVs and GeoJSON files built from boxes."""

from __future__ import annotations

import json
from typing import Any

from shapely.geometry import box, mapping
from shapely.geometry.base import BaseGeometry

from civicgrid.authz.permissions import ROLE_PERMISSIONS, Role
from civicgrid.authz.scope import Level, Principal, Scope

CITY = "340300"


def principal(role: Role = Role.admin, code: str = CITY, level: Level = Level.city) -> Principal:
    return Principal(
        user_id=None,
        username=f"test-{role.value}",
        role=role.value,
        permissions=ROLE_PERMISSIONS[role],
        scope=Scope(division_code=code, level=level),
    )


def divisions_csv(rows: list[tuple[str, str, str, str]], header: str = "level,code,name,parent_code") -> bytes:
    lines = [header] + [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


BASE_ROWS = [
    ("city", CITY, "蚌埠市", "340000"),
    ("district", "340303", "蚌山区", CITY),
    ("district", "340304", "禹会区", CITY),
    ("street", "340303001", "天桥街道", "340303"),
    ("street", "340303002", "青年街道", "340303"),
    ("community", "340303001001", "天桥社区居委会", "340303001"),
    ("community", "340303001201", "张庄村委会", "340303001"),
]

# Boxes that nest: city [117,32]-[118,33]; districts split at 117.5; streets split the first at 32.5.
BOXES: dict[str, tuple[float, float, float, float]] = {
    CITY: (117.0, 32.0, 118.0, 33.0),
    "340303": (117.0, 32.0, 117.5, 33.0),
    "340304": (117.5, 32.0, 118.0, 33.0),
    "340303001": (117.0, 32.0, 117.5, 32.5),
    "340303002": (117.0, 32.5, 117.5, 33.0),
    "340303001001": (117.0, 32.0, 117.25, 32.5),
    "340303001201": (117.25, 32.0, 117.5, 32.5),
}


def feature(code: str, geometry: BaseGeometry | dict[str, Any], **props: Any) -> dict[str, Any]:
    geo = geometry if isinstance(geometry, dict) else mapping(geometry)
    return {"type": "Feature", "properties": {"code": code, **props}, "geometry": geo}


def collection(features: list[dict[str, Any]]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": features}).encode("utf-8")


def boundaries_file(codes: list[str] | None = None) -> bytes:
    return collection([feature(c, box(*BOXES[c])) for c in (codes or list(BOXES))])
