"""Reading import files in JSON row by row, in constant memory: an array of objects, or JSON Lines
(the 12345 hotline's exports, police-call feeds).

The result is a `registry.sources.Source` like a CSV's: the header is every key any object has (in the
order first seen, found by a first pass that also counts the rows), the rows are the objects' values
in that order, numbered from 1 (the array's first object; in JSON Lines, the line number). The encoding
is decided as for CSV (UTF-8, with or without BOM, or GB18030), and a file in neither is refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from civicgrid.core.errors import ImportRejected
from civicgrid.registry.sources import Source, detect_encoding

CHUNK = 1 << 16
# An object larger than this (characters) is taken for a broken file rather than read on and on.
MAX_OBJECT = 1 << 20


def _reject(message: str) -> ImportRejected:
    return ImportRejected(message, details=[{"row": None, "field": "file", "problem": message}])


class _Reader:
    """A text file read in chunks, consumed from the front: only the current object is held in memory."""

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle
        self.buffer = ""
        self.position = 0

    def _fill(self) -> bool:
        more = self.handle.read(CHUNK)
        self.buffer = self.buffer[self.position :] + more
        self.position = 0
        return bool(more)

    def peek(self) -> str:
        """The next character that is not blank ("" at the end of the file)."""
        while True:
            while self.position < len(self.buffer) and self.buffer[self.position].isspace():
                self.position += 1
            if self.position < len(self.buffer):
                return self.buffer[self.position]
            if not self._fill():
                return ""

    def value(self, decoder: json.JSONDecoder, what: str) -> Any:
        while True:
            try:
                value, self.position = decoder.raw_decode(self.buffer, self.position)
                return value
            except json.JSONDecodeError as exc:  # cut by the chunk's end, or broken
                if len(self.buffer) - self.position > MAX_OBJECT or not self._fill():
                    raise _reject(f"{what} is not valid JSON: {exc.msg}") from None


def _objects(handle: TextIO) -> Iterator[tuple[int, dict[str, Any]]]:
    """(number, object) of a JSON array of objects or of JSON Lines; ImportRejected where it breaks."""
    reader = _Reader(handle)
    first = reader.peek()
    if first != "[":
        handle.seek(0)
        yield from _lines(handle)
        return
    decoder = json.JSONDecoder()
    reader.position += 1
    number = 0
    while reader.peek() != "]" or number:
        number += 1
        value = reader.value(decoder, f"object {number} of the JSON array")
        if not isinstance(value, dict):
            raise _reject(f'item {number} of the JSON array is not an object {{"field": value, …}}')
        yield number, value
        after = reader.peek()
        if after == "]":
            break
        if after != ",":
            raise _reject(f"a comma or the closing ']' should follow object {number} (the file is cut short?)")
        reader.position += 1
    reader.position += 1
    if reader.peek():
        raise _reject("there is more after the JSON array's closing ']'")


def _lines(handle: TextIO) -> Iterator[tuple[int, dict[str, Any]]]:
    decoder = json.JSONDecoder()
    number = 0
    while line := handle.readline(MAX_OBJECT + 1):
        number += 1
        if len(line) > MAX_OBJECT:
            raise _reject(f"line {number} is longer than {MAX_OBJECT:,} characters; one record per line")
        text = line.strip()
        if not text:
            continue
        try:
            value = decoder.decode(text)
        except json.JSONDecodeError as exc:
            raise _reject(
                f"line {number} is not a JSON object ({exc.msg}); send an array of objects or one object per line"
            ) from None
        if not isinstance(value, dict):
            raise _reject(f'line {number} is not a JSON object {{"field": value, …}}')
        yield number, value


def open_json(path: Path, *, count: bool = True, encoding: str | None = None) -> Source:
    """The file's keys and rows (see the module's docstring); ImportRejected before any row when it is
    not readable JSON of objects. The first pass always runs (the header is every key)."""
    encoding = encoding or detect_encoding(path)
    header: dict[str, None] = {}
    total = 0
    with path.open(encoding=encoding, newline="") as handle:
        for _number, value in _objects(handle):
            total += 1
            header.update(dict.fromkeys(str(k).strip() for k in value))
    if not header:
        raise _reject("the file holds no records")
    columns = list(header)
    handle = path.open(encoding=encoding, newline="")

    def rows() -> Iterator[tuple[int, list[Any]]]:
        for number, value in _objects(handle):
            cleaned = {str(k).strip(): v for k, v in value.items()}
            yield number, [_cell(cleaned.get(column)) for column in columns]

    source = Source("json", columns, total if count else None, encoding, rows())
    source._closers.append(handle.close)
    return source


def _cell(value: Any) -> Any:
    """Plain values as they are; nested arrays and objects as their JSON text."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value
