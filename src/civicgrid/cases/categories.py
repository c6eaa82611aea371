"""The case category code table (two levels), its defaults after common practice, and its upkeep.

Defaults follow the grid platforms' core classes (矛盾纠纷, 治安隐患, 安全隐患, 民生服务, 市容环境,
突发事件, REFERENCE.md §2) with a default priority, the kind of department that usually handles each,
and working-day limits where a class needs tighter ones than the general rule.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.audit import service as audit
from civicgrid.authz.policy import require
from civicgrid.authz.scope import Principal
from civicgrid.cases.models import PRIORITIES, CaseCategory
from civicgrid.core.errors import Conflict, InvalidInput, NotFound

# (code, name_zh, name_en, priority, department_type, accept_days, handle_days)
Row = tuple[str, str, str, str, str | None, float | None, float | None]
DEFAULT_CATEGORIES: tuple[Row, ...] = (
    ("01", "矛盾纠纷", "Disputes", "normal", "justice", None, None),
    ("0101", "邻里纠纷", "Neighbour dispute", "normal", "justice", None, None),
    ("0102", "婚姻家庭纠纷", "Family dispute", "normal", "justice", None, None),
    ("0103", "劳资纠纷", "Wage dispute", "high", "human_resources", None, 3),
    ("0104", "物业纠纷", "Property-management dispute", "normal", "housing", None, None),
    ("0105", "征地拆迁纠纷", "Land and demolition dispute", "high", "natural_resources", None, None),
    ("02", "治安隐患", "Public-order hazards", "high", "police", None, None),
    ("0201", "可疑人员车辆", "Suspicious people or vehicles", "high", "police", 0.5, 2),
    ("0202", "黄赌毒线索", "Gambling, drugs or prostitution lead", "high", "police", 0.5, 3),
    ("0203", "出租房屋隐患", "Rental-housing hazard", "normal", "police", None, None),
    ("0204", "寄递物流隐患", "Parcel and logistics hazard", "normal", "police", None, None),
    ("03", "安全隐患", "Safety hazards", "high", "emergency_management", None, None),
    ("0301", "消防隐患", "Fire hazard", "high", "fire_rescue", 0.5, 3),
    ("0302", "燃气隐患", "Gas hazard", "urgent", "gas_supply", 0.25, 1),
    ("0303", "危房隐患", "Dangerous building", "high", "housing", 0.5, 5),
    ("0304", "道路交通隐患", "Road-traffic hazard", "normal", "traffic_police", None, None),
    ("0305", "电动车违规充电", "Unsafe e-bike charging", "high", "fire_rescue", 0.5, 2),
    ("04", "民生服务", "Livelihood services", "normal", "civil_affairs", None, None),
    ("0401", "供水供电供气", "Water, power or gas supply", "high", "water_supply", 0.5, 1),
    ("0402", "社会救助", "Social assistance", "normal", "civil_affairs", None, None),
    ("0403", "医疗卫生", "Health care", "normal", "health", None, None),
    ("0404", "教育入学", "Schooling", "normal", "education", None, None),
    ("0405", "社保就业", "Social security and jobs", "normal", "human_resources", None, None),
    ("05", "市容环境", "City appearance and environment", "normal", "urban_management", None, None),
    ("0501", "井盖缺失破损", "Missing or broken manhole cover", "high", "urban_management", 0.5, 1),
    ("0502", "垃圾堆放", "Rubbish dumping", "normal", "urban_management", None, 2),
    ("0503", "违章搭建", "Illegal structure", "normal", "urban_management", None, 10),
    ("0504", "占道经营", "Street vending on the road", "low", "urban_management", None, None),
    ("0505", "路灯损坏", "Broken street lamp", "normal", "urban_management", None, 3),
    ("0506", "环境污染", "Pollution", "normal", "ecology_environment", None, None),
    ("06", "突发事件", "Emergencies", "urgent", "emergency_management", 0.1, 1),
    ("0601", "火灾", "Fire", "urgent", "fire_rescue", 0.05, 1),
    ("0602", "群体性事件", "Mass incident", "urgent", "police", 0.05, 1),
    ("0603", "自然灾害", "Natural disaster", "urgent", "emergency_management", 0.1, 2),
    ("0604", "公共卫生事件", "Public-health incident", "urgent", "health", 0.1, 2),
    ("07", "其他", "Other", "low", None, None, None),
    ("0701", "政策咨询", "Policy question", "low", "government_services", None, None),
    ("0702", "意见建议", "Suggestion", "low", "government_services", None, None),
)


def seed_categories(session: Session) -> int:
    """Insert the default categories that are missing (idempotent); returns how many were added."""
    have = set(session.scalars(select(CaseCategory.code)))
    added = 0
    for sort, (code, zh, en, priority, department, accept, handle) in enumerate(DEFAULT_CATEGORIES):
        if code in have:
            continue
        session.add(
            CaseCategory(
                code=code,
                parent_code=code[:2] if len(code) == 4 else None,
                depth=1 if len(code) == 2 else 2,
                name_zh=zh,
                name_en=en,
                default_priority=priority,
                department_type=department,
                accept_days=accept,
                handle_days=handle,
                sort=sort,
            )
        )
        added += 1
        if len(code) == 2:
            session.flush()  # parents before children (the foreign key is checked at once on PostgreSQL)
    session.flush()
    return added


def list_categories(session: Session, *, include_inactive: bool = False) -> list[CaseCategory]:
    query = select(CaseCategory).order_by(CaseCategory.sort, CaseCategory.code)
    if not include_inactive:
        query = query.where(CaseCategory.active.is_(True))
    return list(session.scalars(query))


def usable_category(session: Session, code: str, field: str = "category_code") -> CaseCategory:
    """The active category `code`, or a 422 naming the field (a report must be classified to a leaf)."""
    category = session.get(CaseCategory, code)
    if category is None or not category.active:
        raise InvalidInput(
            f"unknown case category '{code}'; GET /api/v1/cases/categories lists them",
            details=[{"field": field, "problem": "unknown category"}],
        )
    return category


def _check_fields(session: Session, data: dict[str, Any]) -> None:
    if data.get("default_priority") is not None and data["default_priority"] not in PRIORITIES:
        raise InvalidInput(
            f"priority must be one of {', '.join(PRIORITIES)}",
            details=[{"field": "default_priority", "problem": "unknown priority"}],
        )
    for key in ("accept_days", "handle_days"):
        value = data.get(key)
        if value is not None and not 0 < value <= 365:
            raise InvalidInput(
                f"{key} must be more than 0 and at most 365 working days",
                details=[{"field": key, "problem": "out of range"}],
            )


def create_category(session: Session, principal: Principal, data: dict[str, Any]) -> CaseCategory:
    require(principal, "case:admin")
    code = data["code"]
    if not code.isdigit() or len(code) not in (2, 4):
        raise InvalidInput(
            "a category code is 2 digits (a class) or 4 digits (its class's 2 digits and 2 more)",
            details=[{"field": "code", "problem": "bad format"}],
        )
    if session.get(CaseCategory, code) is not None:
        raise Conflict(f"category {code} exists already", details={"code": code})
    parent = code[:2] if len(code) == 4 else None
    if parent is not None and session.get(CaseCategory, parent) is None:
        raise InvalidInput(
            f"the class {parent} of {code} does not exist; create it first",
            details=[{"field": "code", "problem": "no parent"}],
        )
    _check_fields(session, data)
    category = CaseCategory(
        code=code,
        parent_code=parent,
        depth=1 if parent is None else 2,
        name_zh=data["name_zh"],
        name_en=data["name_en"],
        default_priority=data.get("default_priority") or "normal",
        department_type=data.get("department_type"),
        accept_days=data.get("accept_days"),
        handle_days=data.get("handle_days"),
        sort=data.get("sort") or 1000,
    )
    session.add(category)
    session.flush()
    audit.record(session, principal, "case_category.create", "case_category", code)
    return category


def update_category(session: Session, principal: Principal, code: str, changes: dict[str, Any]) -> CaseCategory:
    require(principal, "case:admin")
    category = session.get(CaseCategory, code)
    if category is None:
        raise NotFound(f"category {code} not found", details={"code": code})
    _check_fields(session, changes)
    for key, value in changes.items():
        setattr(category, key, value)
    session.flush()
    audit.record(session, principal, "case_category.update", "case_category", code, details={"fields": list(changes)})
    return category
