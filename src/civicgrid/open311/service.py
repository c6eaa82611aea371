"""Open311 writes: a client app's report becomes a case through `cases.intake` (source "open311"), and
its comments become 'comment' steps of the case's timeline — no second store of requests.

The client authenticates with a platform API key (`api_key`), whose role must allow `case:report`
(keys for Open311 apps are issued with the role "resident"). A report needs a point (`lat`, `long`):
there is no geocoder, so an address alone cannot be placed. A report of the same category near an
open case is merged into it (+1) and answered with that case's id.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.auth import service as auth
from civicgrid.authz.scope import Principal
from civicgrid.cases import intake, service
from civicgrid.cases.models import Case
from civicgrid.config import Settings
from civicgrid.core.errors import Forbidden, InvalidInput, NotFound
from civicgrid.open311 import attributes, catalogue, params, query
from civicgrid.open311.render import timestamp

MAX_DESCRIPTION = 4000
MAX_NAME = 60


@dataclass(frozen=True)
class Form:
    """A POST body's fields in order (repeated keys kept), and whether it came form-encoded at all."""

    pairs: Sequence[tuple[str, str]]
    is_form: bool = True

    def values(self) -> dict[str, str]:
        """The last value of each field (`attribute[…]` fields are read from `pairs`)."""
        return dict(self.pairs)


def key_principal(session: Session, form: Form, query_key: str | None) -> Principal:
    """The API key's principal: 403 in the spec's shape when the key is missing or not valid."""
    key = (form.values().get("api_key") or query_key or "").strip()
    if not key:
        raise Forbidden("api_key is required: send the API key the platform issued to your app in the form body")
    principal = auth.principal_from_api_key(session, key)
    if principal is None:
        raise Forbidden("the api_key is not valid: it is unknown, revoked or expired")
    if not form.is_form:
        raise InvalidInput("send the body form-encoded (application/x-www-form-urlencoded), as GeoReport v2 says")
    return principal


def _bad(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, details=[{"field": field, "problem": message}])


def _media_url(values: dict[str, str]) -> str | None:
    link = params.text(values, "media_url", max_length=1000)
    if link is not None and not link.lower().startswith(("http://", "https://")):
        raise _bad("media_url", "media_url must be an http:// or https:// link to the photo")
    return link


def _reporter_name(values: dict[str, str]) -> str | None:
    first = params.text(values, "first_name", max_length=MAX_NAME)
    last = params.text(values, "last_name", max_length=MAX_NAME)
    parts = [p for p in (first, last) if p]
    if not parts:
        return None
    # Chinese names put the family name first and take no space.
    cjk = all(all("\u4e00" <= ch <= "\u9fff" or ch == "·" for ch in p) for p in parts)
    name = f"{last or ''}{first or ''}" if cjk else " ".join(parts)
    if len(name) > MAX_NAME:
        raise _bad("first_name", f"first_name and last_name together are longer than {MAX_NAME} characters")
    return name


def _location(values: dict[str, str]) -> tuple[float, float]:
    lat, lon = params.number(values, "lat"), params.number(values, "long")
    if lat is not None and lon is not None:
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise _bad("lat", "lat must lie in [-90, 90] and long in [-180, 180] (WGS84 degrees)")
        return lat, lon
    if lat is not None or lon is not None:
        raise _bad("lat" if lat is None else "long", "send both lat and long (WGS84 degrees)")
    if params.text(values, "address_string"):
        raise _bad("address_string", "address_string alone cannot be placed; send lat and long")
    if params.text(values, "address_id"):
        raise _bad("address_id", "address_id alone cannot be placed (there is no address register); send lat and long")
    raise _bad("lat", "a location is required: send lat and long (WGS84 degrees)")


def submit(session: Session, settings: Settings, principal: Principal, form: Form) -> tuple[dict[str, Any], bool]:
    """POST requests: the answer item and whether a new case was created (False: merged into an open one)."""
    values = form.values()
    code = params.text(values, "service_code")
    if code is None:
        raise _bad("service_code", "service_code is required; GET services.json lists them")
    category = catalogue.service_category(session, code, missing=InvalidInput)
    lat, lon = _location(values)
    description = params.text(values, "description", max_length=MAX_DESCRIPTION) or ""
    email = params.text(values, "email", max_length=254)
    if email is not None and "@" not in email:
        raise _bad("email", "email is not an e-mail address")
    answers = attributes.validate(category.code, attributes.form_attributes(form.pairs))
    media_url = _media_url(values)
    if media_url:
        answers["media_url"] = media_url
    for name in ("device_id", "account_id"):
        params.text(values, name, max_length=100)
    report = intake.Report(
        category_code=category.code,
        lon=lon,
        lat=lat,
        description=description,
        address=params.text(values, "address_string", max_length=300),
        reporter_name=_reporter_name(values),
        reporter_phone=params.text(values, "phone", max_length=40),
        on_duplicate="follow",
        attributes=answers,
    )
    try:
        outcome = intake.report(
            session,
            principal,
            report,
            source="open311",
            duplicate_metres=settings.case_duplicate_metres,
            duplicate_hours=settings.case_duplicate_hours,
        )
    except InvalidInput as exc:
        if _field_of(exc) == "location":
            raise _bad(
                "lat",
                f"lat {lat}, long {lon} cannot be taken: {exc.message} (this server serves one city; "
                "check that lat and long are not swapped)",
            ) from exc
        if _field_of(exc) == "reporter_phone":
            raise _bad("phone", f"phone is not a telephone number: {exc.message}") from exc
        raise
    except NotFound as exc:  # a key scoped to one area, reporting outside it
        raise _bad("lat", f"lat {lat}, long {lon} lies outside the area of this API key") from exc
    case = outcome.case
    if outcome.created:
        due = timestamp(case.accept_due, settings.tz)
        notice = f"已登记，编号 {case.code}，将于 {due} 前受理 (received as {case.code}; to be accepted by {due})"
    else:
        notice = (
            f"附近已有相同问题的报告 {case.code}，您的报告已合并为关注（+1），请跟踪该编号 "
            f"(the same problem was already reported nearby as {case.code}; your report was added to it)"
        )
    if catalogue.is_hidden(settings, case.category_code):
        notice += "；此类报告不公开查询 (reports of this kind are not published)"
    item = {
        "service_request_id": case.code,
        "token": outcome.token,
        "service_notice": notice,
        "account_id": params.text(values, "account_id"),
    }
    return item, outcome.created


def _field_of(exc: InvalidInput) -> str | None:
    details = exc.details
    if isinstance(details, list) and details and isinstance(details[0], dict):
        field = details[0].get("field")
        return field if isinstance(field, str) else None
    return None


def comment(session: Session, settings: Settings, principal: Principal, form: Form) -> dict[str, Any]:
    """POST servicerequestupdates: the client's comment on a request, as a public 'comment' step.

    The key's principal must be allowed to comment: staff keys on the cases they may see, and the
    app that reported a case when it sends the tracking `token` it was given.
    """
    values = form.values()
    code = params.text(values, "service_request_id")
    if code is None:
        raise _bad("service_request_id", "service_request_id is required")
    description = params.text(values, "description", max_length=MAX_DESCRIPTION)
    if description is None:
        raise _bad("description", "description is required: the text of the comment")
    media_url = _media_url(values)
    token = params.text(values, "token", max_length=100)
    case_id = session.scalar(select(Case.id).where(Case.code == code))
    if case_id is None:
        raise NotFound(f"there is no service request {code!r}")
    token_hash = intake.token_digest(token) if token else None
    note = f"{description}\n{media_url}" if media_url else description
    try:
        result = service.act(
            session,
            principal,
            case_id,
            service.ActionInput(
                action="comment", note=note, idempotency_key=f"{query.CLIENT_COMMENT_PREFIX}{uuid.uuid4().hex}"
            ),
            token_hash=token_hash,
        )
    except NotFound as exc:
        public = session.scalar(query.public_cases(settings).where(Case.id == case_id))
        if public is None:
            raise NotFound(f"there is no service request {code!r}") from exc
        raise Forbidden(
            f"this API key may not comment on {code}: send the tracking token your app was given when it "
            "reported it, or use a key of the staff handling it"
        ) from exc
    action = result.action
    return {
        "service_request_id": code,
        "update_id": str(action.id),
        "updated_datetime": timestamp(action.created_at, settings.tz),
        "status": query.open_or_closed(result.case.status),
        "description": f"{query.SUMMARIES['comment']}：{description}",
        "media_url": media_url,
    }
