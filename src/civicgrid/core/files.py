"""Attachments: photos checked from their content, cleaned of metadata, stored with a thumbnail.

`store_image` accepts JPEG, PNG and WebP only, identified from the bytes (never from a file name or a
declared content type), and refuses anything else — a text file called `.jpg`, a truncated or corrupt
image, an image whose dimensions would take more memory to decode than a photo ever needs — with 415,
and anything over the size limit with 413. An accepted image is decoded, turned upright by its EXIF
orientation, converted to sRGB when it carries a colour profile, and re-encoded from its pixels alone
into a new image: no EXIF (GPS position, camera make and model, serial numbers, times), no XMP, no ICC
profile, no comments or text chunks survive. Animated images keep their first frame. A JPEG thumbnail
at most 320 px on its long side is stored beside it.

Keys are `<prefix>/<yyyy>/<mm>/<dd>/<uuid>.<ext>` (UTC date) and `….thumb.jpg`; the client's file name
never reaches a path. Where the bytes go is a `FileStore`: a local directory (`<data_dir>/files`, the
default) or a bucket of any S3-compatible store (`CIVICGRID_FILE_STORE=s3`), chosen by
`file_store_from_settings`. Stores keep bytes only: the caller records the content type, size and
checksum of what it stored (`StoredImage`) in its own tables.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from civicgrid.config import Settings
from civicgrid.core.clock import utcnow
from civicgrid.core.errors import AppError, NotFound
from civicgrid.core.uploads import PayloadTooLarge

if TYPE_CHECKING:
    from botocore.response import StreamingBody
    from mypy_boto3_s3 import S3Client

log = logging.getLogger(__name__)

# format name (as Pillow reports it) → (content type, file extension)
IMAGE_FORMATS: Final = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
THUMBNAIL_SIZE: Final = 320
# 50 megapixels: the largest phone cameras; a decoded RGBA image of this size takes 200 MB.
MAX_PIXELS: Final = 50_000_000
JPEG_QUALITY: Final = 90
THUMBNAIL_QUALITY: Final = 80
STREAM_CHUNK: Final = 64 * 1024
_KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*")
_PREFIX_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*")
MAX_KEY_LENGTH: Final = 512


class UnsupportedMediaType(AppError):
    status_code = 415
    code = "unsupported_media_type"


class StorageUnavailable(AppError):
    status_code = 503
    code = "storage_unavailable"


@dataclass(frozen=True)
class StoredImage:
    """What `store_image` stored: the caller keeps these in its own row."""

    key: str
    thumbnail_key: str
    content_type: str  # of the stored image (the thumbnail is always image/jpeg)
    size: int  # bytes of the stored image
    width: int
    height: int
    sha256: str  # hex digest of the stored image's bytes


# -- images ------------------------------------------------------------------------------------------------


def _refuse(message: str, problem: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(message, details=[{"field": "file", "problem": problem}])


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the image is larger than the limit of {limit:,} bytes (CIVICGRID_ATTACHMENT_MAX_BYTES); "
        "send a smaller photo or lower its resolution",
        details={"limit_bytes": limit},
    )


def _decode(data: bytes) -> tuple[Image.Image, str]:
    """The first frame of a JPEG, PNG or WebP image, fully decoded, and its format; 415 otherwise."""
    try:
        with warnings.catch_warnings():
            # Pillow warns (and past twice the limit refuses) on images of huge dimensions; we refuse earlier.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS))
            if image.format not in IMAGE_FORMATS:  # pragma: no cover - `formats` already restricts this
                raise _refuse("only JPEG, PNG and WebP images are accepted", "unsupported image type")
            width, height = image.size
            if width < 1 or height < 1 or width * height > MAX_PIXELS:
                raise _refuse(
                    f"the image is {width}×{height} pixels; images of more than {MAX_PIXELS // 1_000_000} "
                    "megapixels are refused (they take too much memory to process)",
                    "too many pixels",
                )
            image.seek(0)
            image.load()
    except UnidentifiedImageError as exc:
        raise _refuse(
            "the file is not a JPEG, PNG or WebP image (its content was checked, not its name); send a photo "
            "in one of these formats",
            "not a JPEG, PNG or WebP image",
        ) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _refuse(
            "the image's dimensions are too large to process safely", "too many pixels (decompression bomb)"
        ) from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as exc:
        # Truncated data, broken chunks or checksums, impossible headers.
        raise _refuse(
            "the image is damaged or incomplete and cannot be read; send the photo again",
            "corrupt or truncated image",
        ) from exc
    assert image.format is not None
    return image, image.format


def _to_srgb(image: Image.Image) -> Image.Image:
    """Pixels in a plain mode (RGB, RGBA or L), converted to sRGB if the image had a colour profile."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    target = "RGBA" if has_alpha else ("L" if image.mode in ("L", "1") or image.mode.startswith("I") else "RGB")
    icc = image.info.get("icc_profile")
    if icc and target != "L" and image.mode in ("RGB", "RGBA", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(
                image, source, ImageCms.createProfile("sRGB"), outputMode=target if image.mode != "CMYK" else "RGB"
            )
            if converted is not None:
                image = converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # an unusable profile: keep the pixels as they are
    if image.mode == "P" and has_alpha:
        image = image.convert("RGBA")
    if image.mode.startswith("I"):  # 16- or 32-bit grey: scale to 8 bits
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    return image if image.mode == target else image.convert(target)


def _pixels_only(image: Image.Image) -> Image.Image:
    """A new image holding nothing but the pixels: no info, EXIF, XMP, profile, comment or text chunk."""
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    return clean


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        if image.mode == "RGBA":  # pragma: no cover - JPEG has no alpha; decoded JPEGs never have one
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif fmt == "PNG":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "WEBP", quality=JPEG_QUALITY, method=4)
    return out.getvalue()


def _thumbnail(image: Image.Image) -> bytes:
    thumb = image.copy()
    thumb.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
    if thumb.mode == "RGBA":  # flatten transparency onto white
        background = Image.new("RGB", thumb.size, (255, 255, 255))
        background.paste(thumb, mask=thumb.getchannel("A"))
        thumb = background
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    return out.getvalue()


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    thumbnail: bytes
    format: str  # JPEG, PNG or WEBP
    content_type: str
    extension: str
    width: int
    height: int


def clean_image(data: bytes, *, max_bytes: int) -> CleanImage:
    """Check and clean an image without storing it (see the module docstring); 413 or 415 when refused."""
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    if not data:
        raise _refuse("the file is empty; send a JPEG, PNG or WebP photo", "empty file")
    decoded, fmt = _decode(data)
    upright = ImageOps.exif_transpose(decoded)
    assert upright is not None
    pixels = _pixels_only(_to_srgb(upright))
    content_type, extension = IMAGE_FORMATS[fmt]
    return CleanImage(
        data=_encode(pixels, fmt),
        thumbnail=_thumbnail(pixels),
        format=fmt,
        content_type=content_type,
        extension=extension,
        width=pixels.width,
        height=pixels.height,
    )


def new_key(prefix: str, extension: str) -> str:
    """`<prefix>/<yyyy>/<mm>/<dd>/<uuid>.<extension>` for today's UTC date."""
    if not _PREFIX_PATTERN.fullmatch(prefix):
        raise ValueError(f"key prefix {prefix!r} must be lower-case letters, digits, '_', '-' and '/'")
    return f"{prefix}/{utcnow():%Y/%m/%d}/{uuid.uuid4().hex}.{extension}"


def store_image(store: FileStore, data: bytes, *, max_bytes: int, prefix: str = "attachments") -> StoredImage:
    """Check, clean and store an image and its thumbnail; 413 when too large, 415 when not an accepted image.

    If storing the thumbnail fails, the image just stored is deleted again, so nothing half-stored stays
    behind. The caller records the returned keys; when its transaction rolls back it should delete them.
    """
    image = clean_image(data, max_bytes=max_bytes)
    key = new_key(prefix, image.extension)
    thumbnail_key = key.rsplit(".", 1)[0] + ".thumb.jpg"
    store.put(key, image.data, image.content_type)
    try:
        store.put(thumbnail_key, image.thumbnail, "image/jpeg")
    except BaseException:
        store.delete(key)
        raise
    return StoredImage(
        key=key,
        thumbnail_key=thumbnail_key,
        content_type=image.content_type,
        size=len(image.data),
        width=image.width,
        height=image.height,
        sha256=hashlib.sha256(image.data).hexdigest(),
    )


# -- stores ------------------------------------------------------------------------------------------------


def check_key(key: str) -> str:
    """A key is relative path segments of letters, digits, '.', '_' and '-'; never '..', never absolute."""
    segments = key.split("/")
    if (
        not key
        or len(key) > MAX_KEY_LENGTH
        or not _KEY_PATTERN.fullmatch(key)
        or any(segment in (".", "..") or segment.startswith("..") for segment in segments)
    ):
        raise ValueError(f"invalid file key {key[:80]!r}: use relative path segments without '..'")
    return key


def _missing(key: str) -> NotFound:
    return NotFound("the file is not in the file store (it was deleted or never stored)", details={"key": key})


class FileStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`, replacing what was there."""

    def get(self, key: str) -> bytes:
        """The bytes under `key`; NotFound if there are none."""

    def stream(self, key: str) -> Iterator[bytes]:
        """The bytes under `key` in chunks, for serving; NotFound (before the first chunk) if there are none."""

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove `key`; nothing happens if it is not there."""

    def open_url(self, key: str, *, expires_seconds: int = 300) -> str | None:
        """A time-limited URL a browser can fetch directly, or None when the store cannot make one (serve
        the bytes with `stream` instead)."""


class LocalFileStore:
    """Files under a directory; writes are atomic (a temporary file in the same directory, then a rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        check_key(key)
        root = self.root.resolve()
        path = (root / key).resolve()
        if root not in path.parents:
            raise ValueError(f"invalid file key {key[:80]!r}: it leads outside the file store")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise _missing(key) from exc

    def stream(self, key: str) -> Iterator[bytes]:
        try:
            handle = self.path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise _missing(key) from exc
        return _chunks(handle)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def open_url(self, key: str, *, expires_seconds: int = 300) -> str | None:
        return None


def _chunks(handle: io.BufferedReader) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(STREAM_CHUNK):
            yield chunk


class S3FileStore:
    """Objects in a bucket of an S3-compatible store (AWS S3, MinIO, Ceph, …), addressed path-style."""

    def __init__(self, bucket: str, client: S3Client) -> None:
        self.bucket = bucket
        self.client = client

    @classmethod
    def connect(
        cls,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str | None = None,
    ) -> S3FileStore:
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
            ),
        )
        return cls(bucket, client)

    def _unavailable(self, exc: Exception, doing: str) -> StorageUnavailable:
        log.warning("file store error while %s: %s", doing, type(exc).__name__)
        return StorageUnavailable(
            f"the file store could not {doing}; try again later, and tell the administrators if this persists",
            details={"bucket": self.bucket},
        )

    @staticmethod
    def _is_missing(exc: Exception) -> bool:
        from botocore.exceptions import ClientError

        if not isinstance(exc, ClientError):
            return False
        code = str(exc.response.get("Error", {}).get("Code", ""))
        return code in ("NoSuchKey", "404", "NotFound")

    def put(self, key: str, data: bytes, content_type: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        check_key(key)
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        except (BotoCoreError, ClientError) as exc:
            raise self._unavailable(exc, "store the file") from exc

    def get(self, key: str) -> bytes:
        return b"".join(self.stream(key))

    def stream(self, key: str) -> Iterator[bytes]:
        from botocore.exceptions import BotoCoreError, ClientError

        check_key(key)
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except (BotoCoreError, ClientError) as exc:
            if self._is_missing(exc):
                raise _missing(key) from exc
            raise self._unavailable(exc, "read the file") from exc
        return _s3_chunks(body)

    def exists(self, key: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        check_key(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError) as exc:
            if self._is_missing(exc):
                return False
            raise self._unavailable(exc, "look the file up") from exc
        return True

    def delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        check_key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError) as exc:
            raise self._unavailable(exc, "delete the file") from exc

    def open_url(self, key: str, *, expires_seconds: int = 300) -> str | None:
        check_key(key)
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_seconds
        )


def _s3_chunks(body: StreamingBody) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(STREAM_CHUNK)
    finally:
        body.close()


def file_store_from_settings(settings: Settings) -> FileStore:
    """The store the settings choose: `<data_dir>/files`, or the S3 bucket of CIVICGRID_S3_*."""
    if settings.file_store == "s3":
        assert settings.s3_bucket  # the settings refuse s3 without a bucket
        secret = settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None
        return S3FileStore.connect(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            access_key=settings.s3_access_key,
            secret_key=secret,
            region=settings.s3_region,
        )
    return LocalFileStore(settings.files_dir)
