"""Reading import files row by row in constant memory: CSV (UTF-8, UTF-8 with BOM, GB18030/GBK), XLSX, and
JSON (an array of objects or JSON Lines, in `sources_json`).

A `Source` gives the header and then the data rows as `(row number, cells)`, numbered as a spreadsheet
shows them (the header is row 1 of a CSV). Nothing is read into memory whole:

- CSV: the encoding is decided from a byte-order mark, else by decoding the whole file as UTF-8 — in
  1 MiB chunks — and, if that fails, as GB18030 (a superset of GBK and GB2312, what Excel saves in
  Chinese Windows); a file that is neither is refused, naming the byte offset. The same scan counts the
  rows, so progress has a total. The delimiter is a comma, or a tab when the header has tabs and no
  commas.
- XLSX: openpyxl in read-only mode streams the first (or the named) worksheet's rows.
"""

from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from civicgrid.core.errors import ImportRejected

CHUNK = 1 << 20
FORMATS = ("csv", "xlsx")
XLSX_MAGIC = b"PK\x03\x04"


def _reject(message: str, field_name: str = "file") -> ImportRejected:
    return ImportRejected(message, details=[{"row": None, "field": field_name, "problem": message}])


def looks_like_json(path: Path) -> bool:
    """Whether the file starts (after a byte-order mark and blanks) with '[' or '{'."""
    with path.open("rb") as f:
        head = f.read(4096).removeprefix(b"\xef\xbb\xbf").lstrip()
    return head[:1] in (b"[", b"{")


def sniff_format(path: Path, filename: str | None = None, *, allow_json: bool = False) -> str:
    """xlsx when the file is a zip (or named .xlsx), else csv; .xls (old binary Excel) is refused.
    With `allow_json`: json when named .json/.jsonl/.ndjson or starting with '[' or '{'."""
    name = (filename or "").lower()
    if allow_json and (name.endswith((".json", ".jsonl", ".ndjson")) or looks_like_json(path)):
        return "json"
    if name.endswith(".xls"):
        raise _reject("old Excel files (.xls) are not read; save the sheet as .xlsx or CSV")
    with path.open("rb") as f:
        head = f.read(8)
    if head.startswith(XLSX_MAGIC) or name.endswith(".xlsx"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _reject("this is an old Excel file (.xls); save the sheet as .xlsx or CSV (UTF-8)")
    return "csv"


@dataclass
class Source:
    format: str
    header: list[str]
    total: int | None
    encoding: str | None = None
    _rows: Iterator[tuple[int, list[Any]]] | None = None
    _closers: list[Any] = field(default_factory=list)

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        assert self._rows is not None
        return self._rows

    def close(self) -> None:
        for closer in self._closers:
            closer()
        self._closers.clear()


# -- CSV -------------------------------------------------------------------------------------------------


def _scan(path: Path, encoding: str) -> int | None:
    """Decode the whole file in chunks; the byte offset of the first undecodable byte, or None."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    with path.open("rb") as f:
        while True:
            chunk = f.read(CHUNK)
            pending = len(decoder.getstate()[0])  # bytes of a character cut by the previous chunk
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                return offset - pending + exc.start
            if not chunk:
                return None
            offset += len(chunk)


def detect_encoding(path: Path) -> str:
    """utf-8-sig, utf-8 or gb18030 — decided by decoding the whole file; ImportRejected if none fits."""
    with path.open("rb") as f:
        head = f.read(4)
    if head.startswith(codecs.BOM_UTF8):
        bad = _scan(path, "utf-8-sig")
        if bad is not None:
            raise _reject(
                f"the file starts as UTF-8 (byte-order mark) but byte {bad:,} is not UTF-8; save it again as UTF-8",
                "encoding",
            )
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _reject("the file is UTF-16 text; save it as CSV UTF-8 (or as .xlsx)", "encoding")
    bad_utf8 = _scan(path, "utf-8")
    if bad_utf8 is None:
        return "utf-8"
    bad_gb = _scan(path, "gb18030")
    if bad_gb is None:
        return "gb18030"
    raise _reject(
        f"the file is neither UTF-8 (invalid byte at offset {bad_utf8:,}) nor GBK/GB18030 (invalid byte at offset "
        f"{bad_gb:,}); save it as CSV UTF-8 or as .xlsx",
        "encoding",
    )


def _delimiter(first_line: str) -> str:
    return "\t" if "\t" in first_line and "," not in first_line else ","


def open_csv(path: Path, *, count: bool = True, encoding: str | None = None) -> Source:
    """The CSV's header and rows; `encoding` when already detected (skips the scan)."""
    encoding = encoding or detect_encoding(path)
    with path.open(encoding=encoding, newline="") as f:
        first = f.readline()
    delimiter = _delimiter(first)
    total: int | None = None
    if count:
        total = 0
        try:
            with path.open(encoding=encoding, newline="") as f:
                reader = csv.reader(f, delimiter=delimiter)
                next(reader, None)
                for cells in reader:
                    if any(c.strip() for c in cells):
                        total += 1
        except csv.Error as exc:
            raise _reject(f"the file is not readable as CSV: {exc}") from None
    handle = path.open(encoding=encoding, newline="")
    reader = csv.reader(handle, delimiter=delimiter)
    try:
        header_cells = next(reader)
    except StopIteration:
        handle.close()
        raise _reject("the file is empty") from None
    except csv.Error as exc:
        handle.close()
        raise _reject(f"the file is not readable as CSV: {exc}") from None

    def rows() -> Iterator[tuple[int, list[Any]]]:
        number = 1
        try:
            for cells in reader:
                number += 1
                if any(c.strip() for c in cells):
                    yield number, list(cells)
        except csv.Error as exc:
            raise _reject(f"row {number} is not readable as CSV: {exc}") from None

    source = Source("csv", [h.strip() for h in header_cells], total, encoding, rows())
    source._closers.append(handle.close)
    return source


# -- XLSX ------------------------------------------------------------------------------------------------


def open_xlsx(path: Path, sheet: str | None = None) -> Source:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    # A file object, not the path: openpyxl judges paths by their suffix, and uploads have none.
    handle = path.open("rb")
    try:
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        handle.close()
        raise _reject("the file is not a readable .xlsx workbook (damaged, encrypted or another format)") from None
    try:
        if sheet is not None:
            if sheet not in workbook.sheetnames:
                raise _reject(
                    f"the workbook has no sheet named {sheet!r} (sheets: {', '.join(workbook.sheetnames)})", "sheet"
                )
            chosen: Any = workbook[sheet]
        else:
            chosen = workbook.worksheets[0]
        if not hasattr(chosen, "iter_rows"):
            raise _reject(f"the sheet {chosen.title!r} is a chart, not a table of rows", "sheet")
        worksheet: Any = chosen
        iterator = worksheet.iter_rows(values_only=True)
        header: list[str] | None = None
        header_row = 0
        for values in iterator:
            header_row += 1
            if any(v is not None and str(v).strip() for v in values):
                header = ["" if v is None else str(v).strip() for v in values]
                break
        if header is None:
            raise _reject("the worksheet is empty")
        while header and not header[-1]:
            header.pop()
        max_row = getattr(worksheet, "max_row", None)
        total = max(0, max_row - header_row) if isinstance(max_row, int) else None
    except BaseException:
        workbook.close()
        handle.close()
        raise

    def rows() -> Iterator[tuple[int, list[Any]]]:
        number = header_row
        for values in iterator:
            number += 1
            if any(v is not None and (not isinstance(v, str) or v.strip()) for v in values):
                yield number, list(values)

    source = Source("xlsx", header, total, None, rows())
    source._closers.extend([workbook.close, handle.close])
    return source


def open_source(
    path: Path, fmt: str, sheet: str | None = None, *, count: bool = True, encoding: str | None = None
) -> Source:
    if fmt == "xlsx":
        return open_xlsx(path, sheet)
    if fmt == "json":
        from civicgrid.registry.sources_json import open_json  # it builds on this module

        return open_json(path, count=count, encoding=encoding)
    return open_csv(path, count=count, encoding=encoding)


# -- cells -----------------------------------------------------------------------------------------------


def cell_text(value: Any) -> str | None:
    """A cell as text: None for empty; whole-number floats (Excel's numbers) without their '.0'."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        return text or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
