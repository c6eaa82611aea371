"""Receiving large uploads: streamed to a file under the data directory, refused (413) past a size limit.

The request body is read chunk by chunk and written straight to disk, so memory stays constant however
large the file. The limit is checked on every chunk: reading stops at the first chunk that passes it
(and at once when the declared Content-Length is already over it), the partial file is deleted and
`PayloadTooLarge` answers 413.

Two body shapes are accepted: the raw file (any content type but multipart, e.g. `text/csv` or
`application/octet-stream`; the file name may come in `X-Filename` or a query parameter), or
`multipart/form-data` whose part named `file` is the file (parsed as it streams). The other parts are
ignored, unless the route asks for them (`keep_fields`): then they are small form fields (a mapping id,
a mode) whose text is kept in `Upload.fields` — at most 20 of them, each at most 4 KiB of UTF-8.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from python_multipart.multipart import MultipartParser, parse_options_header

from civicgrid.core.errors import AppError, InvalidInput


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


@dataclass
class Upload:
    path: Path
    size: int
    filename: str | None
    content_type: str | None
    # The multipart body's other parts (form fields) by name; empty for a raw body.
    fields: dict[str, str] = field(default_factory=dict)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the file is larger than the limit of {limit:,} bytes (CIVICGRID_IMPORT_MAX_BYTES); "
        "split it into smaller files",
        details={"limit_bytes": limit},
    )


def new_upload_path(directory: Path, suffix: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"upload-{uuid.uuid4().hex}{suffix}"


async def receive_upload(
    chunks: AsyncIterator[bytes],
    headers: dict[str, str],
    directory: Path,
    limit: int,
    filename: str | None = None,
    *,
    keep_fields: bool = False,
) -> Upload:
    """Stream a request body (raw or multipart) into a new file in `directory`, at most `limit` bytes.

    `headers` are the request's headers with lower-case names. On any error the partial file is removed.
    `keep_fields`: keep the multipart body's form fields (`Upload.fields`).
    """
    declared = headers.get("content-length")
    content_type = headers.get("content-type", "")
    multipart = content_type.lower().startswith("multipart/form-data")
    if declared and declared.isdigit() and int(declared) > limit and not multipart:
        raise _too_large(limit)
    if declared and declared.isdigit() and multipart and int(declared) > limit + 64 * 1024:
        raise _too_large(limit)  # the multipart envelope adds a few hundred bytes, never 64 KiB
    path = new_upload_path(directory)
    fields: dict[str, str] = {}
    try:
        if multipart:
            size, part_name, part_type = await _receive_multipart(
                chunks, content_type, path, limit, fields if keep_fields else None
            )
            filename = part_name or filename
        else:
            size = await _receive_raw(chunks, path, limit)
            part_type = content_type or None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    filename = filename or headers.get("x-filename")
    return Upload(path=path, size=size, filename=filename, content_type=part_type, fields=fields)


async def _receive_raw(chunks: AsyncIterator[bytes], path: Path, limit: int) -> int:
    size = 0
    with path.open("wb") as out:
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            out.write(chunk)
    return size


MAX_FIELD_BYTES = 4096
MAX_FIELDS = 20


def _field_problem(problem: str) -> InvalidInput:
    return InvalidInput(f"the multipart body's form fields: {problem}", details=[{"field": "form", "problem": problem}])


async def _receive_multipart(
    chunks: AsyncIterator[bytes], content_type: str, path: Path, limit: int, fields: dict[str, str] | None = None
) -> tuple[int, str | None, str | None]:
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise InvalidInput(
            "the multipart body has no boundary", details=[{"field": "file", "problem": "malformed multipart body"}]
        )
    state: dict[str, Any] = {
        "header_field": b"",
        "header_value": b"",
        "headers": {},
        "in_file": False,
        "found": False,
        "size": 0,
        "filename": None,
        "type": None,
        "field": None,  # the name of the form field being read
        "value": b"",
    }
    out = path.open("wb")

    def on_part_begin() -> None:
        state["headers"] = {}

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["header_field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["header_value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["header_field"].lower()] = state["header_value"]
        state["header_field"] = state["header_value"] = b""

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(state["headers"].get(b"content-disposition", b""))
        is_file = disposition.get(b"name") == b"file" and not state["found"]
        state["in_file"] = is_file
        name = disposition.get(b"name")
        keep = fields is not None and name is not None and name != b"file"
        state["field"] = name.decode("utf-8", "replace") if keep and name is not None else None
        state["value"] = b""
        if is_file:
            state["found"] = True
            raw_name = disposition.get(b"filename")
            state["filename"] = raw_name.decode("utf-8", "replace") if raw_name else None
            raw_type = state["headers"].get(b"content-type")
            state["type"] = raw_type.decode("latin-1") if raw_type else None

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state["field"] is not None:
            state["value"] += data[start:end]
            if len(state["value"]) > MAX_FIELD_BYTES:
                raise _field_problem(f"{state['field']!r} is longer than {MAX_FIELD_BYTES:,} bytes")
            return
        if not state["in_file"]:
            return
        state["size"] += end - start
        if state["size"] > limit:
            raise _too_large(limit)
        out.write(data[start:end])

    def on_part_end() -> None:
        state["in_file"] = False
        if state["field"] is not None and fields is not None:
            if len(fields) >= MAX_FIELDS:
                raise _field_problem(f"more than {MAX_FIELDS} fields")
            try:
                fields[state["field"]] = state["value"].decode("utf-8").strip()
            except UnicodeDecodeError:
                raise _field_problem(f"{state['field']!r} is not UTF-8 text") from None
        state["field"] = None

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        async for chunk in chunks:
            parser.write(chunk)
        parser.finalize()
    finally:
        out.close()
    if not state["found"]:
        raise InvalidInput(
            "the multipart body has no part named `file`",
            details=[{"field": "file", "problem": "missing: send the file in a form field named file"}],
        )
    return state["size"], state["filename"], state["type"]


def remove_quietly(path: str | os.PathLike[str] | None) -> None:
    if path:
        Path(path).unlink(missing_ok=True)


def upload_body(
    description: str, media_types: tuple[str, ...], form_fields: Mapping[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The OpenAPI request body of an upload route (`openapi_extra`): `file` as multipart (with the
    `form_fields` beside it, name → JSON schema), or the raw bytes under each of `media_types` — both
    shapes `receive_upload` reads."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    multipart = {
        "schema": {
            "type": "object",
            "properties": {"file": {"type": "string", "format": "binary"}, **(form_fields or {})},
            "required": ["file"],
        }
    }
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"multipart/form-data": multipart, **{media_type: binary for media_type in media_types}},
        }
    }
