"""The code tables: everyone signed in reads them; admins edit them."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from civicgrid.audit import service as audit
from civicgrid.auth.deps import PrincipalDep
from civicgrid.authz.policy import require
from civicgrid.core.db import after_commit
from civicgrid.core.errors import InvalidInput
from civicgrid.core.web import SessionDep
from civicgrid.registry import codes
from civicgrid.registry.models import CodeEntry

router = APIRouter(prefix="/registry/codes", tags=["registry"])


class CodeOut(BaseModel):
    table: str
    code: str
    label_zh: str
    label_en: str
    active: bool
    sort: int


class CodeIn(BaseModel):
    label_zh: str = Field(min_length=1, max_length=100)
    label_en: str = Field(min_length=1, max_length=100)
    active: bool = True
    sort: int = Field(default=0, ge=0, le=100000)


@router.get("", operation_id="codes_list", response_model=list[CodeOut])
def list_codes(session: SessionDep, principal: PrincipalDep, table: str | None = None) -> list[CodeOut]:
    """Every code table entry (or one table's), inactive ones included."""
    query = select(CodeEntry).order_by(CodeEntry.table, CodeEntry.sort, CodeEntry.code)
    if table:
        query = query.where(CodeEntry.table == table)
    return [
        CodeOut(table=e.table, code=e.code, label_zh=e.label_zh, label_en=e.label_en, active=e.active, sort=e.sort)
        for e in session.scalars(query)
    ]


@router.put("/{table}/{code}", operation_id="codes_put", response_model=CodeOut)
def put_code(table: str, code: str, body: CodeIn, session: SessionDep, principal: PrincipalDep) -> CodeOut:
    """Add or change an entry of an existing table; deactivate instead of deleting (old rows keep it)."""
    require(principal, "codes:write")
    if not session.scalar(select(CodeEntry.code).where(CodeEntry.table == table).limit(1)):
        raise InvalidInput(f"there is no code table {table!r}", details=[{"field": "table", "problem": "unknown"}])
    longest = codes.MAX_CODE_LENGTH.get(table, 20)
    if not (1 <= len(code) <= longest) or not code.replace("_", "").isascii() or not code.replace("_", "").isalnum():
        raise InvalidInput(
            f"a code of {table} is 1–{longest} ASCII letters, digits or underscores",
            details=[{"field": "code", "problem": "format"}],
        )
    entry = session.get(CodeEntry, (table, code))
    if entry is None:
        entry = CodeEntry(table=table, code=code)
        session.add(entry)
    entry.label_zh, entry.label_en, entry.active, entry.sort = body.label_zh, body.label_en, body.active, body.sort
    session.flush()
    after_commit(session, codes.invalidate)
    audit.record(session, principal, "codes.put", "code", f"{table}/{code}", details={"active": body.active})
    return CodeOut(
        table=table, code=code, label_zh=entry.label_zh, label_en=entry.label_en, active=entry.active, sort=entry.sort
    )
