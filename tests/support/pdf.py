"""Reading back the PDFs the platform writes (ReportLab), without a PDF library: enough to check that a
file is a whole PDF, how many pages it has, and which text it shows.

ReportLab compresses each content stream (ASCII85 over Flate) and writes the text of its CID fonts
(STSong-Light, encoding UniGB-UCS2-H) as UTF-16 big-endian string literals shown with `Tj`.
"""

from __future__ import annotations

import base64
import re
import zlib

_STREAM = re.compile(rb"/Filter\s*\[\s*/ASCII85Decode\s*/FlateDecode\s*\][^>]*>>\s*stream\r?\n(.*?)endstream", re.S)
_SHOWN = re.compile(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", re.S)
_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}


def is_pdf(data: bytes) -> bool:
    return data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")


def page_count(data: bytes) -> int:
    """The /Count of the page tree's root (ReportLab writes one flat page tree)."""
    counts = [int(n) for n in re.findall(rb"/Count\s+(\d+)", data)]
    return max(counts, default=0)


def _unescape(raw: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(raw):
        c = raw[i]
        if c != 0x5C:
            out.append(c)
            i += 1
            continue
        i += 1
        n = raw[i]
        if 0x30 <= n <= 0x37:  # up to three octal digits
            j = i
            while j < len(raw) and j < i + 3 and 0x30 <= raw[j] <= 0x37:
                j += 1
            out.append(int(raw[i:j], 8) & 0xFF)
            i = j
            continue
        out.append(_ESCAPES.get(n, n))
        i += 1
    return bytes(out)


def shown_text(data: bytes) -> list[str]:
    """Every string shown on the pages, in order (CJK text decoded from UTF-16)."""
    found = []
    for match in _STREAM.finditer(data):
        body = match.group(1).strip()
        try:
            content = zlib.decompress(base64.a85decode(body, adobe=True))
        except ValueError:
            continue
        for literal in _SHOWN.findall(content):
            raw = _unescape(literal)
            try:
                found.append(raw.decode("utf-16-be") if len(raw) % 2 == 0 else raw.decode("latin-1"))
            except UnicodeDecodeError:
                found.append(raw.decode("latin-1"))
    return found


def all_text(data: bytes) -> str:
    return "\n".join(shown_text(data))
