"""Audit records as the auditors' API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditRecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    actor: str
    actor_name: str
    action: str
    object_type: str
    object_id: str | None
    purpose: str | None
    request_id: str | None
    client_address: str | None
    details: dict[str, Any] | None
    hash: str


class VerifyOut(BaseModel):
    ok: bool
    checked: int
    first_broken_seq: int | None
    reason: str | None
