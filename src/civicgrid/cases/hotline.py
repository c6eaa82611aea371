"""12345 hotline tickets: their fields, reading one from a row, and taking one in as a case.

A ticket becomes a report of the `hotline_12345` channel (`intake.report`), received when the hotline
received it, placed in its grid by its coordinates, its caller's phone encrypted like every reporter's.
The same problem open nearby is not opened twice: the ticket is merged into that case as one more
report (+1). Tickets are remembered by their number (`HotlineTicket`), so importing or pushing one
again changes nothing and answers the case it became ("unchanged").

Imports of whole files (CSV, XLSX, JSON) are in `hotline_import`; saved mappings in `hotline_mappings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.authz.policy import require
from civicgrid.authz.scope import Principal
from civicgrid.cases import intake
from civicgrid.cases.hotline_models import HotlineTicket
from civicgrid.cases.models import Case
from civicgrid.core.idnumber import InvalidPhone, normalise_phone
from civicgrid.core.masking import mask_name, mask_phone
from civicgrid.registry.imports import FieldSpec
from civicgrid.registry.sources import cell_text

SOURCE = "hotline_12345"
Status = Literal["created", "merged", "unchanged"]


def _f(name: str, kind: str, description: str, **kwargs: Any) -> tuple[str, FieldSpec]:
    return name, FieldSpec(name, kind, description, **kwargs)


FIELDS: dict[str, FieldSpec] = dict(
    [
        _f("ticket_no", "identifier", "the hotline's ticket number", max_length=64, aliases=("工单编号", "工单号")),
        _f(
            "received_at",
            "datetime",
            "when the hotline received the call: ISO 8601, YYYY-MM-DD HH:MM:SS or YYYY/MM/DD HH:MM (local time "
            "unless an offset is given)",
            aliases=("受理时间", "来电时间", "登记时间"),
        ),
        _f(
            "category",
            "category",
            "the hotline's own category name, translated by the mapping's category table",
            max_length=100,
            aliases=("诉求类别", "问题分类", "工单类别"),
        ),
        _f(
            "description", "text", "what the caller said", max_length=4000, aliases=("诉求内容", "来电内容", "问题描述")
        ),
        _f("address", "text", "where", max_length=300, aliases=("事发地址", "地址")),
        _f("lon", "float", "longitude (WGS 84)", aliases=("经度",)),
        _f("lat", "float", "latitude (WGS 84)", aliases=("纬度",)),
        _f("caller_phone", "identifier", "the caller's phone", max_length=40, mask=mask_phone, aliases=("来电号码",)),
        _f("caller_name", "text", "the caller's name", max_length=60, mask=mask_name, aliases=("来电人", "联系人")),
        _f("priority", "priority", "特急, 紧急, 一般 (or urgent, high, normal, low)", aliases=("紧急程度",)),
    ]
)
# The file must have these columns; every row must fill them (lon and lat: "no location" otherwise).
REQUIRED = ("ticket_no", "received_at", "category", "description", "lon", "lat")
PRIORITY_WORDS = {
    "urgent": "urgent",
    "特急": "urgent",
    "特别紧急": "urgent",
    "high": "high",
    "紧急": "high",
    "加急": "high",
    "normal": "normal",
    "一般": "normal",
    "普通": "normal",
    "low": "low",
    "低": "low",
    "不紧急": "low",
}
_LOCAL_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d")
NO_LOCATION = (
    "no location: the ticket has no coordinates (lon, lat); geocode its address in the hotline system and export "
    "it again"
)


@dataclass
class Ticket:
    ticket_no: str
    received_at: datetime
    category_code: str
    description: str
    lon: float
    lat: float
    address: str | None = None
    caller_phone: str | None = None
    caller_name: str | None = None
    priority: str | None = None


def parse_time(value: Any, tz: ZoneInfo) -> tuple[datetime | None, str | None]:
    """A reception time in UTC: spreadsheet times, ISO 8601, `YYYY-MM-DD HH:MM[:SS]`, `YYYY/MM/DD HH:MM[:SS]`;
    times without an offset are local (`tz`)."""
    moment: datetime | None = value if isinstance(value, datetime) else None
    text = "" if moment is not None else (cell_text(value) or "")
    if moment is None:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            for pattern in _LOCAL_FORMATS:
                try:
                    moment = datetime.strptime(text, pattern)
                    break
                except ValueError:
                    continue
    if moment is None:
        return None, f"{text!r} is not a time; write it as 2025-01-31 14:05:00, 2025/01/31 14:05 or ISO 8601"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC), None


def _number(name: str, raw: Any) -> tuple[float | None, str | None]:
    text = cell_text(raw)
    if text is None:
        return None, None
    try:
        number = float(text)
    except ValueError:
        return None, f"{text!r} is not a number"
    bound = 180 if name == "lon" else 90
    if not -bound <= number <= bound:  # NaN fails this too
        return None, f"a {'longitude' if name == 'lon' else 'latitude'} lies between -{bound} and {bound}"
    return number, None


def read_ticket(
    raw: Mapping[str, Any], categories: Mapping[str, str], tz: ZoneInfo
) -> tuple[Ticket | None, list[tuple[str, str]]]:
    """A ticket from a row's values by field (`raw`), or its problems as (field, reason)."""
    problems: list[tuple[str, str]] = []
    values: dict[str, Any] = {}
    for name, spec in FIELDS.items():
        cell = raw.get(name)
        if spec.kind in ("float", "datetime"):
            continue
        text = cell_text(cell)
        if text is None:
            continue
        if spec.max_length is not None and len(text) > spec.max_length:
            problems.append((name, f"longer than {spec.max_length} characters"))
        else:
            values[name] = text
    for name in ("ticket_no", "category", "description"):
        if name not in values and not any(p[0] == name for p in problems):
            problems.append((name, "required; the cell is empty"))
    if cell_text(raw.get("received_at")) is None:
        problems.append(("received_at", "required; the cell is empty"))
    else:
        values["received_at"], problem = parse_time(raw.get("received_at"), tz)
        if problem:
            problems.append(("received_at", problem))
    if "category" in values:
        code = categories.get(values["category"])
        if code is None:
            problems.append(
                ("category", f"{values['category']!r} is not in the mapping's category table; add it there")
            )
        values["category_code"] = code
    for name in ("lon", "lat"):
        values[name], problem = _number(name, raw.get(name))
        if problem:
            problems.append((name, problem))
    if (values["lon"] is None or values["lat"] is None) and not any(p[0] in ("lon", "lat") for p in problems):
        problems.append(("location", NO_LOCATION))
    if "priority" in values:
        priority = PRIORITY_WORDS.get(values["priority"].lower())
        if priority is None:
            problems.append(("priority", f"{values['priority']!r} is not a priority: use 特急, 紧急 or 一般"))
        values["priority"] = priority
    if "caller_phone" in values:
        try:
            normalise_phone(values["caller_phone"])
        except InvalidPhone as exc:
            problems.append(("caller_phone", exc.message))
    if problems:
        return None, problems
    return Ticket(
        ticket_no=values["ticket_no"],
        received_at=values["received_at"],
        category_code=values["category_code"],
        description=values["description"],
        lon=values["lon"],
        lat=values["lat"],
        address=values.get("address"),
        caller_phone=values.get("caller_phone"),
        caller_name=values.get("caller_name"),
        priority=values.get("priority"),
    ), []


def take_in(
    session: Session,
    principal: Principal,
    ticket: Ticket,
    *,
    job_id: int | None = None,
    duplicate_metres: float = intake.DEFAULT_DUPLICATE_METRES,
    duplicate_hours: float = intake.DEFAULT_DUPLICATE_HOURS,
) -> tuple[Status, Case]:
    """Take one ticket in: a new case, a +1 on the same open problem, or nothing when it was taken already."""
    require(principal, "case:import")
    known = session.scalar(select(HotlineTicket).where(HotlineTicket.ticket_no == ticket.ticket_no))
    if known is not None:
        case = session.get(Case, known.case_id)
        assert case is not None  # the ticket row goes with its case
        return "unchanged", case
    outcome = intake.report(
        session,
        principal,
        intake.Report(
            category_code=ticket.category_code,
            lon=ticket.lon,
            lat=ticket.lat,
            description=ticket.description,
            address=ticket.address,
            priority=ticket.priority,
            reporter_name=ticket.caller_name,
            reporter_phone=ticket.caller_phone,
            external_id=ticket.ticket_no,
            reported_at=ticket.received_at,
            on_duplicate="follow",
        ),
        source=SOURCE,
        duplicate_metres=duplicate_metres,
        duplicate_hours=duplicate_hours,
    )
    status: Status = "created" if outcome.created else "merged" if outcome.followed else "unchanged"
    session.add(
        HotlineTicket(
            ticket_no=ticket.ticket_no,
            case_id=outcome.case.id,
            merged=outcome.followed,
            received_at=ticket.received_at,
            job_id=job_id,
        )
    )
    session.flush()
    return status, outcome.case
