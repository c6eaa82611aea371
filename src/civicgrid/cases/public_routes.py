"""The residents' reporting API (随手拍), no account needed (mounted under /api/v1/public/cases).

A resident uploads photos (`POST /public/cases/attachments`, answering an `upload_token` that later
uploads and the report send again, so the report can claim them), reports the problem (`POST
/public/cases`, answering the case's code and a tracking token shown once), follows its progress by the
token (`GET /public/cases/track/{token}`, with its photos) and rates it once it is closed (`POST
/public/cases/track/{token}/rate`). A report of a problem already open nearby answers 409
`possible_duplicate` with the candidates; `POST /public/cases/{case_id}/follow` (+1) follows one instead
and answers a tracking token too.

Signed-in callers may use these routes with their token: their report is then theirs (unless they ask
for `anonymous`). Every write is limited per client address (CIVICGRID_PUBLIC_RATE_PER_MINUTE requests
of each kind per minute, 429 beyond) before anything is checked or stored.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from civicgrid.auth.deps import OptionalPrincipalDep, SettingsDep
from civicgrid.auth.ratelimit import SlidingWindowLimiter
from civicgrid.cases import attachments, intake, service
from civicgrid.cases.attachment_routes import (
    PHOTO_BODY,
    PHOTO_CONTENT,
    PHOTO_REFUSALS,
    AttachmentUploadOut,
    ThumbnailQuery,
    photo_response,
    receive_photo,
)
from civicgrid.cases.models import Case
from civicgrid.cases.schemas import PublicCaseOut, PublicReport, RateIn
from civicgrid.cases.views import public_case
from civicgrid.config import Settings
from civicgrid.core.errors import Conflict, Forbidden, TooManyRequests
from civicgrid.core.web import SessionDep, client_address

router = APIRouter(prefix="/public/cases", tags=["public"])
SOURCE = "resident"
_limiter_lock = threading.Lock()


def _limiter(request: Request) -> SlidingWindowLimiter:
    """The app's limiter of public writes, made on first use from the settings."""
    with _limiter_lock:
        limiter: SlidingWindowLimiter | None = getattr(request.app.state, "public_limiter", None)
        if limiter is None:
            settings: Settings = request.app.state.settings
            limiter = SlidingWindowLimiter(limit=settings.public_rate_per_minute, window_seconds=60)
            request.app.state.public_limiter = limiter
        return limiter


def _rate_limited(kind: str) -> Callable[[Request], None]:
    def check(request: Request) -> None:
        address = client_address(request) or "unknown"
        if not _limiter(request).allow(f"{kind}:{address}"):
            raise TooManyRequests(
                "too many requests from this address; wait a minute and try again",
                details={"limit_per_minute": _limiter(request).limit},
            )

    return check


class PublicUploadOut(AttachmentUploadOut):
    upload_token: str = Field(
        description="send it as X-Upload-Token with further photos and as upload_token with the report"
    )


class PublicReportOut(BaseModel):
    id: int
    code: str = Field(description="the case's code, for phone calls and letters")
    token: str | None = Field(description="the tracking token, shown once: keep it to follow and rate the case")
    created: bool = Field(description="false when a replayed report (same client_id) returned its case")
    followed: bool = Field(description="true when this was a +1 on an open case")


UploadToken = Annotated[
    str | None,
    Header(
        alias="X-Upload-Token",
        min_length=16,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="the upload_token of an earlier photo of the same report",
    ),
]
TrackingToken = Annotated[str, Path(max_length=128, description="the tracking token a report or +1 answered")]
_TOO_MANY: dict[int | str, dict[str, Any]] = {
    429: {"description": "too many requests from this address; wait a minute"}
}


def _report_out(outcome: intake.Outcome) -> PublicReportOut:
    return PublicReportOut(
        id=outcome.case.id,
        code=outcome.case.code,
        token=outcome.token,
        created=outcome.created,
        followed=outcome.followed,
    )


@router.post(
    "/attachments",
    operation_id="public_cases_upload_photo",
    response_model=PublicUploadOut,
    status_code=201,
    openapi_extra=PHOTO_BODY,
    responses={**PHOTO_REFUSALS, **_TOO_MANY},
    dependencies=[Depends(_rate_limited("upload"))],
)
async def upload_photo(request: Request, upload_token: UploadToken = None) -> PublicUploadOut:
    """Upload a photo for a report (JPEG, PNG or WebP; its EXIF, GPS position included, is removed).

    The first photo answers an `upload_token`; send it with the next photos (header `X-Upload-Token`)
    and with the report (`upload_token`), which then attaches the photos named in `attachment_ids`.
    """
    token = upload_token or intake.new_token()
    out = await receive_photo(request, None, upload_token_hash=intake.token_digest(token))
    return PublicUploadOut(**out.model_dump(), upload_token=token)


@router.post(
    "",
    operation_id="public_cases_report",
    response_model=PublicReportOut,
    status_code=201,
    responses=_TOO_MANY,
    dependencies=[Depends(_rate_limited("report"))],
)
def report(
    body: PublicReport, session: SessionDep, principal: OptionalPrincipalDep, settings: SettingsDep
) -> PublicReportOut:
    """Report a problem at a point (随手拍). Keep the answered token: it is shown only once.

    The same problem open nearby answers 409 `possible_duplicate` with the candidates: follow one
    (`POST /public/cases/{case_id}/follow`) or send again with `force_new`. Without `anonymous`, the name
    and phone given are kept (encrypted, masked to handlers) so the handlers can call back.
    """
    # Signed in, the report is the caller's own unless they ask for anonymity expressly.
    anonymous = body.anonymous if principal is None or "anonymous" in body.model_fields_set else False
    data = intake.Report(
        category_code=body.category_code,
        lon=body.lon,
        lat=body.lat,
        description=body.description,
        address=body.address,
        reporter_name=body.reporter_name,
        reporter_phone=body.reporter_phone,
        anonymous=anonymous,
        attachment_ids=body.attachment_ids,
        upload_token=body.upload_token,
        client_id=body.client_id,
        force_new=body.force_new,
    )
    outcome = intake.report(
        session,
        principal,
        data,
        source=SOURCE,
        duplicate_metres=settings.case_duplicate_metres,
        duplicate_hours=settings.case_duplicate_hours,
    )
    return _report_out(outcome)


@router.post(
    "/{case_id}/follow",
    operation_id="public_cases_follow",
    response_model=PublicReportOut,
    responses=_TOO_MANY,
    dependencies=[Depends(_rate_limited("follow"))],
)
def follow(case_id: int, session: SessionDep, principal: OptionalPrincipalDep) -> PublicReportOut:
    """+1: the same problem as this open case (offered by a `possible_duplicate` answer); without an
    account the answer carries a tracking token for it."""
    return _report_out(intake.follow(session, principal, case_id, source=SOURCE))


def _tracked(session: Session, token: str) -> tuple[Case, bool]:
    """The case the token tracks, and whether it is the reporter's own token (a +1's token only follows)."""
    case = intake.by_token(session, token)
    return case, case.token_hash == intake.token_digest(token)


@router.get("/track/{token}", operation_id="public_cases_track", response_model=PublicCaseOut)
def track(token: TrackingToken, session: SessionDep) -> PublicCaseOut:
    """The progress of the case the token tracks: its steps and photos, never who handles it."""
    case, own = _tracked(session, token)
    return public_case(session, case, can_rate=own)


@router.get(
    "/track/{token}/attachments/{attachment_id}",
    operation_id="public_cases_track_photo",
    response_class=StreamingResponse,
    responses=PHOTO_CONTENT,
)
def track_photo(
    token: TrackingToken,
    attachment_id: int,
    request: Request,
    session: SessionDep,
    thumbnail: ThumbnailQuery = False,
) -> StreamingResponse:
    """A photo of the case the token tracks (or its thumbnail)."""
    case, _own = _tracked(session, token)
    return photo_response(request, attachments.photo_of_case(session, case.id, attachment_id), thumbnail)


@router.post(
    "/track/{token}/rate",
    operation_id="public_cases_rate",
    response_model=PublicCaseOut,
    responses=_TOO_MANY,
    dependencies=[Depends(_rate_limited("rate"))],
)
def rate(token: TrackingToken, body: RateIn, session: SessionDep) -> PublicCaseOut:
    """Rate the handling (1 very unsatisfied … 5 very satisfied) once the case is closed; once only."""
    case, own = _tracked(session, token)
    if not own:
        raise Forbidden("only the reporter's token can rate the case; a +1's token follows it only")
    if case.status != "closed":
        raise Conflict(
            f"the case can be rated once it is closed; it is {case.status} now",
            code="action_not_allowed",
            details={"status": case.status, "allowed_actions": []},
        )
    result = service.act(
        session,
        intake.ANONYMOUS,
        case.id,
        service.ActionInput(action="rate", satisfaction=body.satisfaction, note=body.comment),
        token_hash=case.token_hash,
    )
    return public_case(session, result.case, can_rate=True)
