"""HTTP routes of case photos (mounted under /api/v1): upload one, and serve a case's photos.

`POST /cases/attachments` streams the body — the raw image, or multipart/form-data with a `file` part —
to a temporary file, refusing it (413) as soon as it passes CIVICGRID_ATTACHMENT_MAX_BYTES; the image
is then checked from its content (415 for anything but JPEG, PNG or WebP), cleaned of EXIF/XMP/ICC
metadata, stored with a thumbnail and recorded unbound. Its id goes into the `attachment_ids` of a
report or an action, which binds it to the case. `GET /cases/{case_id}/attachments/{attachment_id}`
serves a bound photo (or `?thumbnail=true` its thumbnail) to whoever may see the case.

The helpers `receive_photo` and `photo_response` also serve the public (resident) routes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from civicgrid.auth.deps import PrincipalDep
from civicgrid.authz.policy import require
from civicgrid.authz.scope import Principal
from civicgrid.cases import attachments, service
from civicgrid.cases.models import CaseAttachment
from civicgrid.config import Settings
from civicgrid.core.files import store_image
from civicgrid.core.uploads import PayloadTooLarge, receive_upload, remove_quietly
from civicgrid.core.web import SessionDep, get_database
from civicgrid.registry.import_routes import ReadPrincipalDep

router = APIRouter(prefix="/cases", tags=["cases"])

# Photos never change once stored: a browser may keep them, but no shared cache may.
PHOTO_CACHE = "private, max-age=31536000, immutable"

PHOTO_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "the photo: the raw JPEG, PNG or WebP bytes, or multipart/form-data with a `file` part",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
            "image/png": {"schema": {"type": "string", "format": "binary"}},
            "image/webp": {"schema": {"type": "string", "format": "binary"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
PHOTO_REFUSALS: dict[int | str, dict[str, Any]] = {
    413: {"description": "the photo is larger than CIVICGRID_ATTACHMENT_MAX_BYTES"},
    415: {"description": "not a JPEG, PNG or WebP image (judged from its content), or damaged"},
}
PHOTO_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}},
        "description": "the photo (metadata stripped), or its JPEG thumbnail",
    }
}


class AttachmentUploadOut(BaseModel):
    id: int = Field(description="name it in a report's or an action's attachment_ids to attach it")
    content_type: str
    size: int = Field(description="bytes of the stored (cleaned) image")
    width: int
    height: int


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the photo is larger than the limit of {limit:,} bytes (CIVICGRID_ATTACHMENT_MAX_BYTES); "
        "send a smaller photo or lower its resolution",
        details={"limit_bytes": limit},
    )


async def receive_photo(
    request: Request, principal: Principal | None, *, upload_token_hash: str | None = None
) -> AttachmentUploadOut:
    """Stream the request's photo to disk, then check, clean, store and record it (unbound)."""
    settings = _settings(request)
    limit = settings.attachment_max_bytes
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        upload = await receive_upload(request.stream(), headers, settings.data_dir / "uploads", limit)
    except PayloadTooLarge:
        raise _too_large(limit) from None
    try:
        return await run_in_threadpool(_store_and_record, request, principal, upload.path, upload_token_hash)
    finally:
        remove_quietly(upload.path)


def _store_and_record(
    request: Request, principal: Principal | None, path: Path, upload_token_hash: str | None
) -> AttachmentUploadOut:
    settings = _settings(request)
    store = attachments.file_store(request.app.state, settings)
    stored = store_image(store, path.read_bytes(), max_bytes=settings.attachment_max_bytes)
    try:
        with get_database(request).unit_of_work() as session:
            row = attachments.record_upload(session, principal, stored, upload_token_hash=upload_token_hash)
            return AttachmentUploadOut(
                id=row.id, content_type=row.content_type, size=row.size, width=row.width, height=row.height
            )
    except BaseException:
        attachments.forget_stored(store, stored)
        raise


def photo_response(request: Request, row: CaseAttachment, thumbnail: bool) -> StreamingResponse:
    """The photo's bytes (or its thumbnail's), streamed from the file store."""
    store = attachments.file_store(request.app.state, _settings(request))
    key = row.thumbnail_key if thumbnail else row.storage_key
    chunks = store.stream(key)  # NotFound here, before the response starts, when the file is gone
    headers = {
        "Cache-Control": PHOTO_CACHE,
        "X-Content-Type-Options": "nosniff",
        "ETag": f'"{row.sha256[:32]}{"-t" if thumbnail else ""}"',
        "Content-Disposition": f'inline; filename="photo-{row.id}{"-thumbnail" if thumbnail else ""}"',
    }
    return StreamingResponse(chunks, media_type="image/jpeg" if thumbnail else row.content_type, headers=headers)


ThumbnailQuery = Annotated[bool, Query(description="the 320 px JPEG thumbnail instead of the photo")]


@router.post(
    "/attachments",
    operation_id="cases_upload_attachment",
    response_model=AttachmentUploadOut,
    status_code=201,
    openapi_extra=PHOTO_BODY,
    responses=PHOTO_REFUSALS,
)
async def upload_attachment(request: Request, principal: ReadPrincipalDep) -> AttachmentUploadOut:
    """Upload a photo for a report or an action; attach it by naming its id in their `attachment_ids`.

    Its type is judged from its content; EXIF (GPS position, camera, times) and other metadata are
    removed; a thumbnail is made. Only you can attach it, once.
    """
    require(principal, "case:report")
    return await receive_photo(request, principal)


@router.get(
    "/{case_id}/attachments/{attachment_id}",
    operation_id="cases_get_attachment",
    response_class=StreamingResponse,
    responses=PHOTO_CONTENT,
)
def get_attachment(
    case_id: int,
    attachment_id: int,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    thumbnail: ThumbnailQuery = False,
) -> StreamingResponse:
    """A photo of a case you may see (or its thumbnail)."""
    case = service.get_case(session, principal, case_id)
    return photo_response(request, attachments.photo_of_case(session, case.id, attachment_id), thumbnail)
