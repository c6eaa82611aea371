"""The auditors' view of the trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from civicgrid.audit import service
from civicgrid.audit.models import AuditRecord
from civicgrid.audit.schemas import AuditRecordOut, VerifyOut
from civicgrid.auth.deps import PrincipalDep
from civicgrid.authz.policy import require
from civicgrid.core.pagination import ListParams, Page, apply_sort, list_params, paginate
from civicgrid.core.web import SessionDep

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("/records", operation_id="audit_list_records", response_model=Page[AuditRecordOut])
def list_records(
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[ListParams, Depends(list_params)],
    actor: Annotated[str | None, Query(description="e.g. user:12 or apikey:3")] = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: Annotated[datetime | None, Query(description="ISO 8601, inclusive")] = None,
    until: Annotated[datetime | None, Query(description="ISO 8601, exclusive")] = None,
) -> Page[AuditRecordOut]:
    """Audit records, newest first by default."""
    query = service.query_records(principal, service.AuditFilter(actor, action, object_type, object_id, since, until))
    query = apply_sort(query, params.sort, {"seq": AuditRecord.seq, "at": AuditRecord.at}, [])
    if not params.sort:
        query = query.order_by(None).order_by(AuditRecord.seq.desc())
    rows, total = paginate(session, query, params)
    return Page[AuditRecordOut].of([AuditRecordOut.model_validate(r) for r in rows], total, params)


@router.get("/verify", operation_id="audit_verify", response_model=VerifyOut)
def verify(session: SessionDep, principal: PrincipalDep) -> VerifyOut:
    """Recompute the hash chain and name the first record that was altered, removed or reordered."""
    require(principal, "audit:verify")
    result = service.verify_chain(session)
    return VerifyOut(
        ok=result.ok, checked=result.checked, first_broken_seq=result.first_broken_seq, reason=result.reason
    )
