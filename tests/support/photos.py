"""Photos for the case tests: a JPEG carrying a camera's EXIF with a GPS position, and larger ones."""

from __future__ import annotations

import io
import random

from PIL import Image

GPS_SECRETS = (b"Exif", b"Canon", b"EOS R5", b"GPS")


def gps_jpeg(width: int = 64, height: int = 48) -> bytes:
    """A small JPEG whose EXIF names the camera and where it was taken (32°56'30"N 117°23'E)."""
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # Make
    exif[0x0110] = "EOS R5 SN-0042"  # Model
    exif[0x8825] = {1: "N", 2: (32.0, 56.0, 30.0), 3: "E", 4: (117.0, 23.0, 0.0)}  # GPS IFD
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(out, "JPEG", quality=90, exif=exif.tobytes())
    data = out.getvalue()
    assert all(secret in data for secret in (b"Exif", b"Canon")), "the test photo must carry its EXIF"
    return data


def noisy_jpeg(side: int = 256, seed: int = 7) -> bytes:
    """A JPEG of random pixels: large for its size (noise does not compress)."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (side, side), bytes(rng.getrandbits(8) for _ in range(side * side * 3)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def open_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image
