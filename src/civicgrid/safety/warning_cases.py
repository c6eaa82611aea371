"""Turning a warning into a case: a report through the cases intake (`cases.intake.report`, channel
`centre`), pre-filled from the warning and linked to it.

- Category: the operator's choice, else one that fits what the warning counts — criminal and public-order
  incidents → 可疑人员车辆 (0201, 治安隐患), gambling → 黄赌毒线索 (0202), fire → 消防隐患 (0301, 安全隐患),
  traffic → 道路交通隐患 (0304), dispute calls → 邻里纠纷 (0101) or 婚姻家庭纠纷 (0102); a surge of cases →
  the first category of their class; consecutive red periods → 0201. By the most frequent incident category
  among the warning's records where that tells more than the class. Otherwise the operator must choose.
- Location: the operator's point, else the centre of the contributing records when it lies inside the
  warning's area (else the record nearest that centre), else the area's centroid (or a point surely inside
  the area when the centroid is not).
- Title and description from the warning and its evidence; the warning's id is kept on the case's
  first timeline entry. The duplicate check of intake is skipped: a warning speaks for an area, not a spot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicgrid.audit import service as audit
from civicgrid.authz.scope import Principal
from civicgrid.cases import categories as case_categories
from civicgrid.cases import intake
from civicgrid.cases.models import Case
from civicgrid.core.errors import AppError, InvalidInput
from civicgrid.geo import service as geo
from civicgrid.geo.geometry import from_wkb
from civicgrid.geo.lookup import lookup_point
from civicgrid.safety import warnings
from civicgrid.safety.models import SafetyIncident, SafetyWarning

SOURCE = "centre"
MAX_POINTS = 5000
# Incident class → case category, and incident categories that say more than their class.
CLASS_CATEGORIES = {"01": "0201", "02": "0201", "03": "0101", "04": "0301", "05": "0304"}
LEAF_CATEGORIES = {"0203": "0202", "0301": "0102", "0302": "0101", "0401": "0301", "0402": "0301"}
RED_STREAK_CATEGORY = "0201"


@dataclass(frozen=True)
class CaseRequest:
    """What the operator changes of the pre-filled report (all optional)."""

    category_code: str | None = None
    title: str | None = None
    description: str | None = None
    priority: str | None = None
    lon: float | None = None
    lat: float | None = None


def _leaf_ok(session: Session, code: str | None) -> str | None:
    if code is None:
        return None
    try:
        category = case_categories.usable_category(session, code)
    except AppError:
        return None
    return category.code if category.depth == 2 else None


def suggested_category(session: Session, warning: SafetyWarning) -> str | None:
    """The case category that fits the warning, or None when the operator must choose."""
    if warning.subject.startswith("red_streak:"):
        return _leaf_ok(session, RED_STREAK_CATEGORY)
    kind = warnings.count_kind(warning)
    if kind is None:
        return None
    if kind == "dispute":
        return _leaf_ok(session, "0101")
    if kind.startswith("case:"):
        klass = kind.removeprefix("case:")
        leaves = [c.code for c in case_categories.list_categories(session) if c.depth == 2 and c.parent_code == klass]
        return leaves[0] if leaves else None
    query = warnings.incident_query(warning, kind).subquery()
    leaf = session.execute(
        select(query.c.category_code, func.count())
        .group_by(query.c.category_code)
        .order_by(func.count().desc(), query.c.category_code)
    ).first()
    if leaf is not None and _leaf_ok(session, LEAF_CATEGORIES.get(str(leaf[0]))):
        return LEAF_CATEGORIES[str(leaf[0])]
    return _leaf_ok(session, CLASS_CATEGORIES.get(kind[4:]))


def _inside(session: Session, lon: float, lat: float, area_code: str) -> bool:
    try:
        place = lookup_point(session, lon, lat)
    except AppError:
        return False
    return area_code == place.grid_code or any(code == area_code for code, _ in place.ancestors.values())


def suggested_location(session: Session, warning: SafetyWarning) -> tuple[float, float] | None:
    kind = warnings.count_kind(warning)
    if kind is not None and kind.startswith(warnings.INCIDENT_PREFIXES):
        records = (
            warnings.incident_query(warning, kind)
            .where(SafetyIncident.lon.is_not(None), SafetyIncident.lat.is_not(None))
            .subquery()
        )
        rows = session.execute(select(records.c.lon, records.c.lat).limit(MAX_POINTS)).all()
        points = [(float(lon), float(lat)) for lon, lat in rows]
        if points:
            centre = (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))
            if _inside(session, *centre, warning.area_code):
                return centre
            return min(points, key=lambda p: (p[0] - centre[0]) ** 2 + (p[1] - centre[1]) ** 2)
    division = geo.require_division(session, warning.area_code)
    if division.centroid_lon is not None and division.centroid_lat is not None:
        centroid = (division.centroid_lon, division.centroid_lat)
        if _inside(session, *centroid, warning.area_code) or division.geometry is None:
            return centroid
    if division.geometry is not None:
        point = from_wkb(division.geometry).representative_point()
        return float(point.x), float(point.y)
    return None


def _description(warning: SafetyWarning, area_name: str) -> str:
    evidence: dict[str, Any] = warning.evidence or {}
    summary = str(evidence.get("summary_zh") or "")
    period = (
        warning.period_start.isoformat()
        if warning.period_start == warning.period_end
        else f"{warning.period_start.isoformat()}至{warning.period_end.isoformat()}"
    )
    return f"由预警#{warning.id}转办。{area_name}，{period}。{summary}".strip()


def to_case(
    session: Session, principal: Principal, warning_id: int, request: CaseRequest
) -> tuple[SafetyWarning, Case]:
    """Report a case pre-filled from the warning, link it, and acknowledge the warning if it was open."""
    warning = warnings.take(session, principal, warning_id, "to_case", None)
    category = request.category_code or suggested_category(session, warning)
    if category is None:
        raise InvalidInput(
            "no case category fits this warning by itself; choose one (category_code)",
            details=[{"field": "category_code", "problem": "required for this warning"}],
        )
    if (request.lon is None) != (request.lat is None):
        raise InvalidInput(
            "give both lon and lat, or neither to use the warning's place",
            details=[{"field": "lon" if request.lon is None else "lat", "problem": "required with the other"}],
        )
    point = (request.lon, request.lat) if request.lon is not None and request.lat is not None else None
    point = point or suggested_location(session, warning)
    if point is None:
        raise InvalidInput(
            "the warning's area has no location on the map; give lon and lat",
            details=[{"field": "lon", "problem": "required for this warning"}],
        )
    area_name = warnings.area_names(session, [warning.area_code]).get(warning.area_code, warning.area_code)
    outcome = intake.report(
        session,
        principal,
        intake.Report(
            category_code=category,
            lon=point[0],
            lat=point[1],
            title=request.title or warning.title,
            description=request.description or _description(warning, area_name),
            priority=request.priority,
            on_duplicate="ignore",
            attributes={"warning_id": warning.id},
        ),
        source=SOURCE,
    )
    case = outcome.case
    warnings.apply(
        session, warning, "to_case", {"case_id": case.id, **warnings.acknowledged_values(principal, warning)}
    )
    audit.record(
        session,
        principal,
        "safety.warning.to_case",
        "safety_warning",
        warning.id,
        details={"case_id": case.id, "category_code": category},
    )
    warnings.publish(session, warning, "to_case")
    return warning, case
