"""Open311 GeoReport v2 at /open311/v2/ (DESIGN.md §9, REFERENCE.md §7; docs/open311.md).

The format is the path's suffix (`.json` or `.xml`). Every failure answers in the spec's shape,
`[{code, description}]` (XML `<errors><error>`), with 404 for a missing resource, 403 for key
problems and 400 for anything else — FastAPI's 422 included. The routes are left out of the
platform's OpenAPI document: the GeoReport v2 specification is their contract.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from civicgrid.auth.deps import SettingsDep
from civicgrid.cases import intake
from civicgrid.core.errors import AppError, InvalidInput, NotFound
from civicgrid.core.files import file_store_from_settings
from civicgrid.core.web import SessionDep
from civicgrid.open311 import catalogue, params, query, service
from civicgrid.open311.render import FORMATS, Format, error_response, format_of_path, respond

PREFIX = "/open311/v2"
log = logging.getLogger("civicgrid.open311")


class Open311Error(Exception):
    """A failure on an Open311 route, carried out of the request's unit of work (which rolls back)
    to the handler that answers it in the spec's shape."""

    def __init__(self, status_code: int, description: str, fmt: Format, *, keep_changes: bool = False) -> None:
        super().__init__(description)
        self.status_code = status_code
        self.description = description
        self.fmt = fmt
        self.keep_changes = keep_changes


def _spec_status(status_code: int) -> int:
    if status_code in (401, 403):
        return 403
    if status_code == 404 or status_code >= 500:
        return status_code
    return 400


def _validation_summary(exc: RequestValidationError) -> str:
    problems = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path"))
        problems.append(f"{where}: {error.get('msg', 'invalid')}")
    return "the request is not valid — " + "; ".join(problems)


class Open311Route(APIRoute):
    """Turns every error of the route into an `Open311Error`, so none answers in the platform's shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def spec_errors(request: Request) -> Response:
            fmt = format_of_path(request.url.path)
            try:
                return await handler(request)
            except Open311Error:
                raise
            except AppError as exc:
                status = _spec_status(exc.status_code)
                raise Open311Error(status, exc.message, fmt, keep_changes=exc.keep_changes) from exc
            except RequestValidationError as exc:
                raise Open311Error(400, _validation_summary(exc), fmt) from exc
            except StarletteHTTPException as exc:
                raise Open311Error(_spec_status(exc.status_code), str(exc.detail), fmt) from exc
            except Exception as exc:
                log.exception("unhandled error on an Open311 route", exc_info=exc)
                raise Open311Error(
                    500, "something went wrong on the server; nothing was changed. Try again later.", fmt
                ) from exc

        return spec_errors


router = APIRouter(prefix=PREFIX, route_class=Open311Route, include_in_schema=False)


def _format(fmt: str) -> Format:
    for known in FORMATS:
        if fmt == known:
            return known
    raise InvalidInput(f"unknown format {fmt!r}: end the path with .json or .xml")


def _base_url(request: Request) -> str:
    return f"{str(request.base_url).rstrip('/')}{PREFIX}/"


async def read_form(request: Request) -> service.Form:
    """The POST body's fields; a body that is not form-encoded reads as empty (refused after the key check)."""
    content_type = request.headers.get("content-type", "").lower()
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return service.Form(pairs=[], is_form=False)
    form = await request.form()
    return service.Form(pairs=[(key, value) for key, value in form.multi_items() if isinstance(value, str)])


FormDep = Annotated[service.Form, Depends(read_form)]


@router.get("/discovery.{fmt}")
def discovery(fmt: str, request: Request, settings: SettingsDep) -> Response:
    return respond(_format(fmt), "discovery", catalogue.discovery(settings, _base_url(request)))


@router.get("/services.{fmt}")
def services(fmt: str, session: SessionDep, settings: SettingsDep) -> Response:
    return respond(_format(fmt), "services", catalogue.services(session, settings))


@router.get("/services/{service_code}.{fmt}")
def service_definition(service_code: str, fmt: str, session: SessionDep) -> Response:
    return respond(_format(fmt), "service_definition", catalogue.definition(session, service_code))


@router.post("/requests.{fmt}")
def post_request(fmt: str, request: Request, form: FormDep, session: SessionDep, settings: SettingsDep) -> Response:
    output = _format(fmt)
    principal = service.key_principal(session, form, request.query_params.get("api_key"))
    item, created = service.submit(session, settings, principal, form)
    return respond(output, "service_requests", [item], status_code=201 if created else 200)


@router.get("/requests.{fmt}")
def get_requests(fmt: str, request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    output = _format(fmt)
    q = query.parse_request_query(request.query_params, settings)
    cases = query.find_requests(session, settings, q)
    body = query.request_dicts(session, settings, cases, _base_url(request), extensions=q.extensions)
    return respond(output, "service_requests", body)


@router.get("/requests/{service_request_id}.{fmt}")
def get_request(
    service_request_id: str, fmt: str, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    output = _format(fmt)
    extensions = params.flag(request.query_params, "extensions")
    case = query.find_one(session, settings, service_request_id)
    body = query.request_dicts(session, settings, [case], _base_url(request), extensions=extensions)
    return respond(output, "service_requests", body)


@router.get("/tokens/{token}.{fmt}")
def get_token(token: str, fmt: str, session: SessionDep) -> Response:
    output = _format(fmt)
    case = intake.by_token(session, token)
    return respond(output, "service_requests", [{"service_request_id": case.code, "token": token}])


@router.get("/servicerequestupdates.{fmt}")
def get_updates(fmt: str, request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    output = _format(fmt)
    body = query.updates(session, settings, request.query_params, _base_url(request))
    return respond(output, "service_request_updates", body)


@router.post("/servicerequestupdates.{fmt}")
def post_update(fmt: str, request: Request, form: FormDep, session: SessionDep, settings: SettingsDep) -> Response:
    output = _format(fmt)
    principal = service.key_principal(session, form, request.query_params.get("api_key"))
    item = service.comment(session, settings, principal, form)
    return respond(output, "service_request_updates", [item], status_code=201)


@router.get("/media/{attachment_id}.jpg")
def media(attachment_id: int, session: SessionDep, settings: SettingsDep) -> Response:
    """The thumbnail a request's media_url links to (photos are stored stripped of EXIF)."""
    attachment = query.public_photo(session, settings, attachment_id)
    data = file_store_from_settings(settings).get(attachment.thumbnail_key)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "public, max-age=86400"})


@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(path: str, request: Request) -> Response:
    raise NotFound(
        f"there is no Open311 endpoint {request.method} {PREFIX}/{path}; GET {PREFIX}/discovery.json lists them"
    )


async def _answer(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Open311Error)
    return error_response(exc.fmt, exc.status_code, exc.description)


def install(app: FastAPI) -> None:
    """Mount the Open311 routes and their error handler on the app (outside /api/v1)."""
    app.include_router(router)
    app.add_exception_handler(Open311Error, _answer)
