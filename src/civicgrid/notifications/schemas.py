"""Notifications and stream tickets on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

NotificationKind = Literal["assignment", "card", "return", "reply", "warning", "system"]


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: NotificationKind = Field(description="assignment, card (yellow/red supervision card), return, reply, …")
    title: str
    body: str | None
    object_type: str | None = Field(description="what it is about, e.g. `case`; the UI opens /cases/<object_id>")
    object_id: str | None
    created_at: datetime
    read_at: datetime | None = Field(description="when you read it; null while unread")


class MarkReadIn(BaseModel):
    ids: list[Annotated[int, Field(ge=1)]] = Field(
        min_length=1, max_length=500, description="notification ids; ids that are not yours are ignored"
    )


class MarkReadOut(BaseModel):
    marked: int = Field(description="notifications of yours that this call marked read")
    unread: int = Field(description="your unread notifications now")


class UnreadCountOut(BaseModel):
    unread: int


class TicketOut(BaseModel):
    ticket: str = Field(description="opens one stream, once, within 60 seconds")
    expires_at: datetime
    url: str = Field(description="the stream to open with EventSource, ticket included")
