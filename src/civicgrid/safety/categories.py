"""The incident category code table (two levels) with the indicator each class counts towards.

The defaults follow the common classification of police calls (接警类别): criminal and public-order
classes feed the crime/public-order indicator, fire calls the fire indicator, traffic accidents the traffic
indicator, dispute calls the dispute indicator; help requests and other calls are kept but not indexed.
Admins may add or rename categories; the seed only adds what is missing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.core.errors import InvalidInput
from civicgrid.safety.models import SafetyCategory

# (code, name_zh, name_en, indicator of the class)
DEFAULT_CLASSES: tuple[tuple[str, str, str, str | None], ...] = (
    ("01", "刑事警情", "Criminal", "crime_order"),
    ("02", "治安警情", "Public order", "crime_order"),
    ("03", "纠纷警情", "Disputes", "disputes"),
    ("04", "火灾警情", "Fire", "fire"),
    ("05", "交通事故", "Traffic accidents", "traffic"),
    ("06", "群众求助", "Requests for help", None),
    ("09", "其他警情", "Other calls", None),
)
DEFAULT_LEAVES: tuple[tuple[str, str, str], ...] = (
    ("0101", "盗窃", "Theft"),
    ("0102", "诈骗", "Fraud"),
    ("0103", "抢劫抢夺", "Robbery and snatching"),
    ("0104", "故意伤害", "Assault"),
    ("0105", "入室盗窃", "Burglary"),
    ("0106", "盗窃电动车", "E-bike theft"),
    ("0199", "其他刑事", "Other criminal"),
    ("0201", "打架斗殴", "Fighting"),
    ("0202", "扰乱公共秩序", "Disturbing public order"),
    ("0203", "赌博", "Gambling"),
    ("0204", "噪声扰民", "Noise nuisance"),
    ("0299", "其他治安", "Other public order"),
    ("0301", "家庭纠纷", "Family disputes"),
    ("0302", "邻里纠纷", "Neighbour disputes"),
    ("0303", "经济纠纷", "Economic disputes"),
    ("0399", "其他纠纷", "Other disputes"),
    ("0401", "火灾", "Fire"),
    ("0402", "火情隐患", "Fire hazard"),
    ("0501", "伤亡事故", "Accident with casualties"),
    ("0502", "财产损失事故", "Accident with damage only"),
    ("0601", "求助", "Request for help"),
    ("0602", "走失人员", "Missing person"),
    ("0901", "咨询", "Enquiry"),
    ("0999", "其他", "Other"),
)


def seed_safety_categories(session: Session) -> int:
    """Add the default categories that are missing; returns how many were added."""
    have = set(session.scalars(select(SafetyCategory.code)))
    added = 0
    for sort, (code, name_zh, name_en, indicator) in enumerate(DEFAULT_CLASSES):
        if code not in have:
            session.add(
                SafetyCategory(
                    code=code, depth=1, name_zh=name_zh, name_en=name_en, indicator=indicator, sort=sort * 100
                )
            )
            added += 1
    session.flush()
    indicators = {code: indicator for code, _, _, indicator in DEFAULT_CLASSES}
    for sort, (code, name_zh, name_en) in enumerate(DEFAULT_LEAVES):
        if code not in have:
            session.add(
                SafetyCategory(
                    code=code,
                    parent_code=code[:2],
                    depth=2,
                    name_zh=name_zh,
                    name_en=name_en,
                    indicator=indicators[code[:2]],
                    sort=sort,
                )
            )
            added += 1
    session.flush()
    return added


def leaf_categories(session: Session) -> dict[str, SafetyCategory]:
    """Active leaf categories by code."""
    return {
        c.code: c
        for c in session.scalars(select(SafetyCategory).where(SafetyCategory.depth == 2, SafetyCategory.active))
    }


def usable_category(session: Session, code: str, *, field: str = "category") -> SafetyCategory:
    category = session.get(SafetyCategory, code)
    if category is None or not category.active or category.depth != 2:
        raise InvalidInput(
            f"{code!r} is not an active incident category (a four-digit leaf such as 0101)",
            details=[{"field": field, "problem": "unknown or inactive incident category"}],
        )
    return category


RECORDS_SOURCE = "records"


def kind_of(category_code: str, source: str | None = None) -> str:
    """The daily-count kind of an incident: its class, `inc:01` for calls (110/119/122) and `rec:01` for
    recorded incidents. Records mostly repeat calls already counted (a theft is called in, then filed), so
    they are counted apart and feed no indicator: the index counts calls, as the common practice does."""
    prefix = "rec" if source == RECORDS_SOURCE else "inc"
    return f"{prefix}:{category_code[:2]}"


def kind_indicators(session: Session) -> dict[str, str]:
    """Every daily-count kind that feeds an indicator → that indicator.

    Incident classes by their `indicator`; the platform's cases of class 01 (矛盾纠纷, every dispute record
    is such a case) feed `disputes`; cases of classes 02 (治安隐患) and 03 (安全隐患) feed `hazards`.
    """
    kinds = {
        f"inc:{c.code}": c.indicator
        for c in session.scalars(select(SafetyCategory).where(SafetyCategory.depth == 1))
        if c.indicator
    }
    kinds.update({"case:01": "disputes", "case:02": "hazards", "case:03": "hazards"})
    return {k: v for k, v in kinds.items() if v}
