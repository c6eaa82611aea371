"""The 28 dispute categories of the dispute-screening practice (REFERENCE.md §2), as a code table.

Each category may name the case category (a leaf of class 01 矛盾纠纷) its disputes are filed under
when the caller does not choose one; the defaults map the five dispute leaves of the case table.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.core.errors import InvalidInput
from civicgrid.disputes.models import DisputeCategory

# (code, name_zh, name_en, default case category)
DEFAULT_DISPUTE_CATEGORIES: tuple[tuple[str, str, str, str | None], ...] = (
    ("01", "信访问题处理", "Petition handling", None),
    ("02", "不稳定因素报告", "Report of destabilising factors", None),
    ("03", "婚姻家庭", "Marriage and family", "0102"),
    ("04", "邻里纠纷", "Neighbours", "0101"),
    ("05", "环境生态", "Environment and ecology", None),
    ("06", "建筑工程", "Construction projects", None),
    ("07", "物业管理", "Property management", "0104"),
    ("08", "企业改制", "Enterprise restructuring", None),
    ("09", "司法活动", "Judicial activities", None),
    ("10", "干部作风", "Conduct of officials", None),
    ("11", "劳资纠纷", "Labour and wages", "0103"),
    ("12", "征地拆迁", "Land acquisition and demolition", "0105"),
    ("13", "军人安置", "Resettlement of service personnel", None),
    ("14", "房屋和宅基地", "Houses and homesteads", None),
    ("15", '农村"三资"', "Rural collective funds, assets and resources", None),
    ("16", "农民负担", "Farmers' burdens", None),
    ("17", "院校问题", "Schools and colleges", None),
    ("18", "民族宗教", "Ethnic and religious affairs", None),
    ("19", "经济活动", "Economic activities", None),
    ("20", "山林土地", "Forests and land", None),
    ("21", "医患纠纷", "Doctor–patient disputes", None),
    ("22", "村(社区)务管理", "Village (community) affairs", None),
    ("23", "行政执法活动", "Administrative law enforcement", None),
    ("24", "海事渔事", "Maritime and fishery affairs", None),
    ("25", "交通及生产安全", "Traffic and work safety", None),
    ("26", "计划生育", "Family planning", None),
    ("27", "合同履行", "Contract performance", None),
    ("28", "其他", "Other", None),
)


def seed_dispute_categories(session: Session) -> int:
    """Insert the default categories that are missing (idempotent); returns how many were added."""
    have = set(session.scalars(select(DisputeCategory.code)))
    added = 0
    for sort, (code, zh, en, case_category) in enumerate(DEFAULT_DISPUTE_CATEGORIES):
        if code in have:
            continue
        session.add(DisputeCategory(code=code, name_zh=zh, name_en=en, case_category_code=case_category, sort=sort))
        added += 1
    session.flush()
    return added


def list_dispute_categories(session: Session, *, include_inactive: bool = False) -> list[DisputeCategory]:
    query = select(DisputeCategory).order_by(DisputeCategory.sort, DisputeCategory.code)
    if not include_inactive:
        query = query.where(DisputeCategory.active.is_(True))
    return list(session.scalars(query))


def usable_dispute_category(session: Session, code: str) -> DisputeCategory:
    """The active dispute category `code`, or a 422 naming the field."""
    category = session.get(DisputeCategory, code)
    if category is None or not category.active:
        raise InvalidInput(
            f"unknown dispute category '{code}'; GET /api/v1/disputes/categories lists the 28 categories",
            details=[{"field": "dispute_category", "problem": "unknown category"}],
        )
    return category


def category_names(session: Session) -> dict[str, tuple[str, str]]:
    """code → (name_zh, name_en) of every category, retired ones included (old disputes keep theirs)."""
    return {
        code: (zh, en)
        for code, zh, en in session.execute(
            select(DisputeCategory.code, DisputeCategory.name_zh, DisputeCategory.name_en)
        )
    }
