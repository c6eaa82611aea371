"""Photos: type checked from content, metadata stripped, upright, thumbnailed; local and S3 stores."""

from __future__ import annotations

import io
import re
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from PIL import Image, ImageCms
from PIL.PngImagePlugin import PngInfo
from pydantic import ValidationError

from civicgrid.config import Settings, random_secret
from civicgrid.core.errors import NotFound
from civicgrid.core.files import (
    LocalFileStore,
    S3FileStore,
    UnsupportedMediaType,
    file_store_from_settings,
    store_image,
)
from civicgrid.core.uploads import PayloadTooLarge

MAX = 10 * 1024 * 1024
KEY_PATTERN = re.compile(r"attachments/\d{4}/\d{2}/\d{2}/[0-9a-f]{32}\.(jpg|png|webp)")
RED, BLUE = (220, 20, 20), (20, 20, 220)


def _two_halves(width: int = 40, height: int = 20) -> Image.Image:
    """Left half red, right half blue."""
    image = Image.new("RGB", (width, height), RED)
    image.paste(BLUE, (width // 2, 0, width, height))
    return image


def _camera_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # Make
    exif[0x0110] = "EOS R5 SN-0042"  # Model
    exif[0x0131] = "FirmwareX"  # Software
    exif[0x0112] = orientation
    exif[0x8825] = {  # GPS IFD: 32°56'30"N 117°23'0"E
        1: "N",
        2: (32.0, 56.0, 30.0),
        3: "E",
        4: (117.0, 23.0, 0.0),
    }
    return exif


def _jpeg_with_metadata(orientation: int = 6) -> bytes:
    out = io.BytesIO()
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>32,56.5N</exif:GPSLatitude></x:xmpmeta>'
    _two_halves().save(
        out,
        "JPEG",
        quality=95,
        exif=_camera_exif(orientation).tobytes(),
        icc_profile=srgb,
        xmp=xmp,
        comment=b"taken at Zhang San's home",
    )
    return out.getvalue()


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _close(actual: tuple[int, ...], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - e) <= 30 for a, e in zip(actual[:3], expected, strict=True))


@pytest.fixture
def store(tmp_path: Path) -> LocalFileStore:
    return LocalFileStore(tmp_path / "files")


def test_jpeg_loses_every_metadata_and_stands_upright(store: LocalFileStore) -> None:
    original = _jpeg_with_metadata(orientation=6)
    assert b"Canon" in original and b"Zhang San" in original  # the test image really carries them
    stored = store_image(store, original, max_bytes=MAX)

    assert KEY_PATTERN.fullmatch(stored.key)
    assert stored.thumbnail_key == stored.key.removesuffix(".jpg") + ".thumb.jpg"
    assert stored.content_type == "image/jpeg"
    data = store.get(stored.key)
    assert stored.size == len(data)
    for secret in (b"Exif", b"Canon", b"EOS R5", b"FirmwareX", b"xmpmeta", b"GPS", b"Zhang San", b"ICC_PROFILE"):
        assert secret not in data, secret
    image = _open(data)
    assert image.format == "JPEG"
    assert not image.getexif()
    assert not {"exif", "icc_profile", "xmp", "comment"} & set(image.info)
    # Orientation 6 (rotate 90° clockwise to view): the wide image becomes tall, its left half on top.
    assert (stored.width, stored.height) == (image.width, image.height) == (20, 40)
    assert _close(image.convert("RGB").getpixel((10, 5)), RED)  # type: ignore[arg-type]
    assert _close(image.convert("RGB").getpixel((10, 35)), BLUE)  # type: ignore[arg-type]


def test_sha256_is_of_the_stored_bytes(store: LocalFileStore) -> None:
    import hashlib

    stored = store_image(store, _jpeg_with_metadata(), max_bytes=MAX)
    assert stored.sha256 == hashlib.sha256(store.get(stored.key)).hexdigest()


def test_png_keeps_transparency_and_loses_text_chunks(store: LocalFileStore) -> None:
    image = Image.new("RGBA", (30, 30), (0, 128, 0, 0))
    image.paste((0, 128, 0, 255), (0, 0, 15, 30))
    info = PngInfo()
    info.add_text("Author", "Li Si, 13800000000")
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info, exif=_camera_exif().tobytes())
    stored = store_image(store, out.getvalue(), max_bytes=MAX)

    assert stored.content_type == "image/png" and stored.key.endswith(".png")
    data = store.get(stored.key)
    assert b"Li Si" not in data and b"Canon" not in data and b"eXIf" not in data
    result = _open(data)
    assert result.format == "PNG" and result.mode == "RGBA"
    assert not result.getexif() and "Author" not in result.info
    assert result.getpixel((2, 2))[3] == 255  # type: ignore[index]
    assert result.getpixel((25, 2))[3] == 0  # type: ignore[index]
    thumb = _open(store.get(stored.thumbnail_key))
    assert thumb.format == "JPEG" and thumb.mode == "RGB"


def test_palette_png_is_accepted(store: LocalFileStore) -> None:
    out = io.BytesIO()
    _two_halves().convert("P").save(out, "PNG")
    stored = store_image(store, out.getvalue(), max_bytes=MAX)
    assert (stored.width, stored.height) == (40, 20)


def test_webp_is_accepted_and_cleaned(store: LocalFileStore) -> None:
    out = io.BytesIO()
    _two_halves().save(out, "WEBP", exif=_camera_exif(orientation=3).tobytes(), quality=95)
    assert b"Canon" in out.getvalue()
    stored = store_image(store, out.getvalue(), max_bytes=MAX)

    assert stored.content_type == "image/webp" and stored.key.endswith(".webp")
    data = store.get(stored.key)
    assert b"Canon" not in data and b"EXIF" not in data
    result = _open(data)
    assert result.format == "WEBP" and not result.getexif()
    # Orientation 3 (rotated 180°): blue now on the left.
    assert _close(result.convert("RGB").getpixel((5, 10)), BLUE)  # type: ignore[arg-type]


def test_thumbnail_is_a_jpeg_of_at_most_320_px(store: LocalFileStore) -> None:
    out = io.BytesIO()
    _two_halves(1000, 500).save(out, "PNG")
    stored = store_image(store, out.getvalue(), max_bytes=MAX)
    thumb = _open(store.get(stored.thumbnail_key))
    assert thumb.format == "JPEG"
    assert thumb.size == (320, 160)
    assert (stored.width, stored.height) == (1000, 500)


def test_small_images_get_a_thumbnail_of_their_own_size(store: LocalFileStore) -> None:
    stored = store_image(store, _jpeg_with_metadata(orientation=1), max_bytes=MAX)
    assert _open(store.get(stored.thumbnail_key)).size == (40, 20)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"This is a text file that someone named photo.jpg\n", "not a JPEG, PNG or WebP image"),
        (b"", "empty file"),
        (b"%PDF-1.7\n1 0 obj << >> endobj\n", "not a JPEG, PNG or WebP image"),
    ],
)
def test_files_that_are_not_images_are_refused(store: LocalFileStore, data: bytes, problem: str) -> None:
    with pytest.raises(UnsupportedMediaType) as excinfo:
        store_image(store, data, max_bytes=MAX)
    assert excinfo.value.status_code == 415
    assert excinfo.value.details == [{"field": "file", "problem": problem}]
    assert not store.root.exists()  # nothing was written


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_image_types_are_refused(store: LocalFileStore, fmt: str) -> None:
    out = io.BytesIO()
    _two_halves().save(out, fmt)
    with pytest.raises(UnsupportedMediaType, match="JPEG, PNG or WebP"):
        store_image(store, out.getvalue(), max_bytes=MAX)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_images_are_refused(store: LocalFileStore, fmt: str) -> None:
    out = io.BytesIO()
    Image.effect_noise((200, 200), 60).convert("RGB").save(out, fmt)
    data = out.getvalue()
    with pytest.raises(UnsupportedMediaType) as excinfo:
        store_image(store, data[: len(data) // 2], max_bytes=MAX)
    assert "damaged or incomplete" in excinfo.value.message
    assert excinfo.value.details == [{"field": "file", "problem": "corrupt or truncated image"}]


def test_corrupt_png_checksum_is_refused(store: LocalFileStore) -> None:
    out = io.BytesIO()
    _two_halves().save(out, "PNG")
    data = bytearray(out.getvalue())
    idat = data.index(b"IDAT")
    data[idat + 6] ^= 0xFF  # flip bits inside the compressed pixels
    with pytest.raises(UnsupportedMediaType):
        store_image(store, bytes(data), max_bytes=MAX)


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims the given dimensions (a decompression bomb's first step)."""
    out = io.BytesIO()
    Image.new("L", (1, 1)).save(out, "PNG")
    data = bytearray(out.getvalue())
    ihdr = data.index(b"IHDR")
    body = struct.pack(">II", width, height) + bytes(data[ihdr + 12 : ihdr + 17])
    data[ihdr + 4 : ihdr + 17] = body
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", zlib.crc32(b"IHDR" + body))
    return bytes(data)


@pytest.mark.parametrize(("width", "height"), [(9000, 9000), (40000, 40000)])
def test_decompression_bombs_are_refused_before_decoding(store: LocalFileStore, width: int, height: int) -> None:
    with pytest.raises(UnsupportedMediaType) as excinfo:
        store_image(store, _png_claiming(width, height), max_bytes=MAX)
    assert "pixels" in excinfo.value.details[0]["problem"]


def test_a_real_compressed_bomb_is_refused(store: LocalFileStore) -> None:
    out = io.BytesIO()
    Image.new("1", (8000, 8000)).save(out, "PNG")  # 64 megapixels in a few kilobytes
    assert len(out.getvalue()) < 100_000
    with pytest.raises(UnsupportedMediaType, match="megapixels"):
        store_image(store, out.getvalue(), max_bytes=MAX)


def test_oversize_is_refused_with_413(store: LocalFileStore) -> None:
    data = _jpeg_with_metadata()
    with pytest.raises(PayloadTooLarge) as excinfo:
        store_image(store, data, max_bytes=len(data) - 1)
    assert excinfo.value.status_code == 413
    assert excinfo.value.details == {"limit_bytes": len(data) - 1}
    assert "CIVICGRID_ATTACHMENT_MAX_BYTES" in excinfo.value.message


# -- the local store -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    ["../evil.jpg", "a/../../evil.jpg", "a/..", "/etc/passwd", "a//b", "a\\..\\b", "", ".hidden", "a/./b", "..a/b"],
)
def test_local_store_refuses_keys_that_could_leave_it(store: LocalFileStore, key: str) -> None:
    with pytest.raises(ValueError, match="invalid file key"):
        store.put(key, b"x", "text/plain")
    with pytest.raises(ValueError, match="invalid file key"):
        store.get(key)
    with pytest.raises(ValueError, match="invalid file key"):
        store.delete(key)


def test_local_store_refuses_a_symlink_out_of_its_root(store: LocalFileStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    store.root.mkdir(parents=True)
    (store.root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError, match="outside the file store"):
        store.put("link/escaped.jpg", b"x", "image/jpeg")
    assert not list(outside.iterdir())


def test_local_store_round_trip(store: LocalFileStore) -> None:
    store.put("a/b/c.bin", b"first", "application/octet-stream")
    store.put("a/b/c.bin", b"second" * 50_000, "application/octet-stream")
    assert store.exists("a/b/c.bin")
    assert store.get("a/b/c.bin") == b"second" * 50_000
    chunks = list(store.stream("a/b/c.bin"))
    assert len(chunks) > 1 and b"".join(chunks) == b"second" * 50_000
    assert store.open_url("a/b/c.bin") is None
    assert [p.name for p in (store.root / "a" / "b").iterdir()] == ["c.bin"]  # no temporary files left
    store.delete("a/b/c.bin")
    store.delete("a/b/c.bin")  # deleting twice is fine
    assert not store.exists("a/b/c.bin")
    with pytest.raises(NotFound):
        store.get("a/b/c.bin")
    with pytest.raises(NotFound):
        store.stream("a/b/c.bin")


def test_local_write_is_atomic(store: LocalFileStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.put("x/photo.jpg", b"old", "image/jpeg")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("civicgrid.core.files.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        store.put("x/photo.jpg", b"new", "image/jpeg")
    assert store.get("x/photo.jpg") == b"old"
    assert [p.name for p in (store.root / "x").iterdir()] == ["photo.jpg"]


def test_a_failed_thumbnail_write_leaves_nothing(store: LocalFileStore, monkeypatch: pytest.MonkeyPatch) -> None:
    real_put = store.put

    def put(key: str, data: bytes, content_type: str) -> None:
        if key.endswith(".thumb.jpg"):
            raise OSError("disk full")
        real_put(key, data, content_type)

    monkeypatch.setattr(store, "put", put)
    with pytest.raises(OSError, match="disk full"):
        store_image(store, _jpeg_with_metadata(), max_bytes=MAX)
    assert not [p for p in store.root.rglob("*") if p.is_file()]


def test_settings_choose_the_local_store_under_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(mode="test", secret_key=random_secret(), data_dir=tmp_path)
    store = file_store_from_settings(settings)
    assert isinstance(store, LocalFileStore)
    assert store.root == tmp_path / "files"
    assert settings.attachment_max_bytes == 10 * 1024 * 1024


def test_settings_refuse_s3_without_a_bucket() -> None:
    with pytest.raises(ValidationError, match="CIVICGRID_S3_BUCKET"):
        Settings(mode="test", secret_key=random_secret(), file_store="s3")


# -- the S3 store (moto's in-memory S3; no network) ----------------------------------------------------------


@pytest.fixture
def s3_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    with mock_aws():
        boto3.client("s3", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s").create_bucket(
            Bucket="civicgrid-photos"
        )
        yield Settings(
            mode="test",
            secret_key=random_secret(),
            file_store="s3",
            s3_bucket="civicgrid-photos",
            s3_access_key="minio-access",
            s3_secret_key="minio-secret",  # type: ignore[arg-type]
            s3_region="us-east-1",
        )


def test_s3_round_trip(s3_settings: Settings) -> None:
    store = file_store_from_settings(s3_settings)
    assert isinstance(store, S3FileStore)
    stored = store_image(store, _jpeg_with_metadata(), max_bytes=MAX)
    assert KEY_PATTERN.fullmatch(stored.key)
    data = store.get(stored.key)
    assert len(data) == stored.size and b"Canon" not in data
    assert store.exists(stored.key) and store.exists(stored.thumbnail_key)
    head = store.client.head_object(Bucket="civicgrid-photos", Key=stored.key)
    assert head["ContentType"] == "image/jpeg"
    assert b"".join(store.stream(stored.thumbnail_key)) == store.get(stored.thumbnail_key)
    url = store.open_url(stored.key, expires_seconds=60)
    assert url is not None and stored.key in url and "X-Amz-Signature" in url
    assert "/civicgrid-photos/" in url  # path-style addressing, as MinIO and most compatible stores need
    store.delete(stored.key)
    assert not store.exists(stored.key)
    with pytest.raises(NotFound):
        store.get(stored.key)
    store.delete(stored.key)  # deleting twice is fine


def test_s3_refuses_bad_keys_and_reports_an_unreachable_bucket(s3_settings: Settings) -> None:
    from civicgrid.core.files import StorageUnavailable

    store = file_store_from_settings(s3_settings)
    with pytest.raises(ValueError, match="invalid file key"):
        store.put("../x", b"x", "text/plain")
    missing_bucket = S3FileStore("no-such-bucket", store.client)  # type: ignore[attr-defined]
    with pytest.raises(StorageUnavailable) as excinfo:
        missing_bucket.put("a/b.jpg", b"x", "image/jpeg")
    assert excinfo.value.status_code == 503
