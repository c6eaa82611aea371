"""Case photos: recording an upload, finding a case's photo to serve, the store they live in.

A photo is stored (cleaned of its metadata, with a thumbnail: `core.files.store_image`) before anyone
knows which case it belongs to, and recorded here unbound: with the uploading account, or with the
digest of the upload token an anonymous resident sent it with. A report or an action binds it later
(`service.bind_attachments`); only bound photos are ever served, and only through their case.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.audit import service as audit
from civicgrid.authz.policy import require
from civicgrid.authz.scope import Principal
from civicgrid.cases.models import CaseAttachment
from civicgrid.config import Settings
from civicgrid.core.errors import NotFound
from civicgrid.core.files import FileStore, StoredImage, file_store_from_settings

log = logging.getLogger(__name__)
_store_lock = threading.Lock()


def file_store(state: object, settings: Settings) -> FileStore:
    """The file store of the app (`state`: the app's state), made once: an S3 client is costly to make."""
    with _store_lock:
        store: FileStore | None = getattr(state, "file_store", None)
        if store is None:
            store = file_store_from_settings(settings)
            state.file_store = store  # type: ignore[attr-defined]
        return store


def record_upload(
    session: Session, principal: Principal | None, stored: StoredImage, *, upload_token_hash: str | None = None
) -> CaseAttachment:
    """Record a stored photo, not yet bound to a case. `principal` None: an anonymous resident, who must
    have an upload token."""
    if principal is not None:
        require(principal, "case:report")
    assert principal is not None or upload_token_hash is not None
    row = CaseAttachment(
        storage_key=stored.key,
        thumbnail_key=stored.thumbnail_key,
        content_type=stored.content_type,
        size=stored.size,
        width=stored.width,
        height=stored.height,
        sha256=stored.sha256,
        uploaded_by_user_id=principal.user_id if principal is not None else None,
        upload_token_hash=upload_token_hash,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        principal,
        "case.attachment_upload",
        "case_attachment",
        row.id,
        details={"content_type": stored.content_type, "size": stored.size},
    )
    return row


def forget_stored(store: FileStore, stored: StoredImage) -> None:
    """Delete a stored photo whose record was not written (the transaction failed)."""
    for key in (stored.key, stored.thumbnail_key):
        try:
            store.delete(key)
        except Exception:  # the original failure matters more; the orphan is only wasted space
            log.warning("could not delete an unrecorded photo from the file store")


def photo_of_case(session: Session, case_id: int, attachment_id: int) -> CaseAttachment:
    """A photo bound to this case; 404 for an unbound photo or another case's."""
    row = session.scalar(
        select(CaseAttachment).where(CaseAttachment.id == attachment_id, CaseAttachment.case_id == case_id)
    )
    if row is None:
        raise NotFound(
            f"case {case_id} has no photo {attachment_id}",
            details={"case_id": str(case_id), "attachment_id": str(attachment_id)},
        )
    return row
