"""Case bodies: reports, actions, the case as a list row and in detail, categories."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Priority = Literal["urgent", "high", "normal", "low"]
Level = Literal["grid", "community", "street", "district", "city"]
Action = Literal[
    "accept",
    "reject",
    "start",
    "dispatch",
    "sign",
    "send_back",
    "co_report",
    "handle",
    "start_verification",
    "pass",
    "return",
    "escalate",
    "hand_down",
    "reopen",
    "supervise",
    "request_extension",
    "decide_extension",
    "comment",
    "rate",
]
InternalSource = Literal["hotline_12345", "iot", "video", "volunteer", "sos", "department", "centre"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CategoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    parent_code: str | None
    depth: int
    name_zh: str
    name_en: str
    default_priority: str
    department_type: str | None
    accept_days: float | None
    handle_days: float | None
    active: bool


class CategoryCreate(_In):
    code: str = Field(min_length=2, max_length=4)
    name_zh: str = Field(min_length=1, max_length=60)
    name_en: str = Field(min_length=1, max_length=80)
    default_priority: Priority = "normal"
    department_type: str | None = Field(default=None, max_length=40)
    accept_days: float | None = None
    handle_days: float | None = None
    sort: int | None = None


class CategoryUpdate(_In):
    name_zh: str | None = Field(default=None, min_length=1, max_length=60)
    name_en: str | None = Field(default=None, min_length=1, max_length=80)
    default_priority: Priority | None = None
    department_type: str | None = Field(default=None, max_length=40)
    accept_days: float | None = None
    handle_days: float | None = None
    active: bool | None = None


class CaseReport(_In):
    category_code: str = Field(min_length=2, max_length=10)
    lon: float = Field(ge=-180, le=180, description="WGS84 longitude")
    lat: float = Field(ge=-90, le=90, description="WGS84 latitude")
    title: str | None = Field(default=None, max_length=200)
    description: str = Field(default="", max_length=4000)
    address: str | None = Field(default=None, max_length=300)
    priority: Priority | None = None
    reporter_name: str | None = Field(default=None, max_length=60)
    reporter_phone: str | None = Field(default=None, max_length=40)
    anonymous: bool = False
    attachment_ids: list[int] = Field(default_factory=list, max_length=9)
    client_id: str | None = Field(
        default=None,
        min_length=8,
        max_length=64,
        description="the device's id for this report: a replay creates one case",
    )
    force_new: bool = Field(default=False, description="report anew even when the same problem is open nearby")
    # Machine channels (API keys) say where the report came from; people's channel follows from their role.
    source: InternalSource | None = None
    external_id: str | None = Field(default=None, max_length=64)
    reported_at: datetime | None = None


class PublicReport(_In):
    """A resident's report (随手拍), signed in or not."""

    category_code: str = Field(min_length=2, max_length=10)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    description: str = Field(min_length=1, max_length=4000)
    address: str | None = Field(default=None, max_length=300)
    reporter_name: str | None = Field(default=None, max_length=60)
    reporter_phone: str | None = Field(default=None, max_length=40)
    anonymous: bool = True
    attachment_ids: list[int] = Field(default_factory=list, max_length=9)
    upload_token: str | None = Field(default=None, max_length=64)
    client_id: str | None = Field(default=None, min_length=8, max_length=64)
    force_new: bool = False


class ActionIn(_In):
    action: Action
    note: str | None = Field(default=None, max_length=4000)
    lead_unit_id: int | None = None
    co_unit_ids: list[int] | None = Field(default=None, max_length=20)
    level: Level | None = None
    colour: Literal["yellow", "red"] | None = None
    days: float | None = None
    extension_id: int | None = None
    grant: bool | None = None
    satisfaction: int | None = None
    attachment_ids: list[int] | None = Field(default=None, max_length=9)
    idempotency_key: str | None = Field(
        default=None, min_length=8, max_length=64, description="the device's key: a replay is applied once"
    )
    expected_version: int | None = Field(
        default=None, description="the case version the action was decided on; a stale one answers 409"
    )


class CaseOut(BaseModel):
    id: int
    code: str
    title: str
    category_code: str
    category_name: str
    source: str
    priority: str
    status: str
    level: str
    lead_unit_id: int | None
    lon: float
    lat: float
    address: str | None
    grid_code: str
    community_code: str
    street_code: str
    district_code: str
    reported_at: datetime
    accept_due: datetime | None
    handle_due: datetime | None
    closed_at: datetime | None
    card: str | None
    followers: int
    overdue: bool
    version: int


class TimelineEntry(BaseModel):
    id: int
    action: str
    from_status: str | None
    to_status: str
    from_level: str | None
    to_level: str
    actor: str
    unit_id: int | None
    note: str | None
    data: dict[str, object]
    attachment_ids: list[int]
    created_at: datetime


class AssignmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    unit_id: int
    unit_name: str
    role: str
    status: str
    report: str | None
    assigned_at: datetime
    reported_at: datetime | None


class AttachmentOut(BaseModel):
    id: int
    content_type: str
    size: int
    width: int
    height: int
    url: str
    thumbnail_url: str
    created_at: datetime


class CardOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    stage: str
    colour: str
    cycle: int
    note: str | None
    raised_at: datetime


class ExtensionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    days: float
    reason: str
    status: str
    decision_note: str | None
    requested_at: datetime
    decided_at: datetime | None


class CaseDetailOut(CaseOut):
    description: str
    reporter_name: str | None = Field(description="masked")
    reporter_phone: str | None = Field(description="masked")
    anonymous: bool
    max_level: str
    closure_level: str | None
    accepted_at: datetime | None
    dispatched_at: datetime | None
    handled_at: datetime | None
    accept_red_due: datetime | None
    handle_red_due: datetime | None
    satisfaction: int | None
    evaluation: str | None
    duplicate_of_id: int | None
    allowed_actions: list[str]
    timeline: list[TimelineEntry]
    assignments: list[AssignmentOut]
    attachments: list[AttachmentOut]
    cards: list[CardOut]
    extensions: list[ExtensionOut]


class ActionOut(BaseModel):
    case: CaseDetailOut
    action_id: int
    replayed: bool


class ReportOut(BaseModel):
    case: CaseDetailOut | None = Field(description="absent for an anonymous reporter, who tracks by token")
    id: int
    code: str
    created: bool = Field(description="false when a replay or a re-import returned an existing case")
    followed: bool = Field(description="true when the report was merged into the same open problem (+1)")
    token: str | None = Field(description="the tracking token, shown once; keep it to follow the case")


class DispatchOption(BaseModel):
    id: int
    name: str
    department_type: str | None
    district_code: str | None
    suggested: bool


class PublicTimelineEntry(BaseModel):
    action: str
    to_status: str
    note: str | None
    created_at: datetime


class PublicCaseOut(BaseModel):
    """What a reporter sees by token: the case's progress, never its handlers' names."""

    id: int
    code: str
    title: str
    category_code: str
    category_name: str
    status: str
    public_status: Literal["open", "closed"]
    description: str
    address: str | None
    lon: float
    lat: float
    reported_at: datetime
    closed_at: datetime | None
    followers: int
    satisfaction: int | None
    can_rate: bool
    timeline: list[PublicTimelineEntry]
    attachment_ids: list[int]


class RateIn(_In):
    satisfaction: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=500)
