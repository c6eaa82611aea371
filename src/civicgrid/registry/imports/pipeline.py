"""What every file import shares (the registry's people and houses, the 12345 hotline, the safety feeds):
reading the file in batches, the per-row error report, the passes of the two modes (DESIGN.md §5), the
result's error report part, and the job handler that runs an import and hands its error report to the job.

An importer brings its own row handling (`take`), counts and audit record; the transactions around them
are here. `all_or_nothing` here is one pass in one transaction (the hotline, the feeds); the registry's
checks every row without writing first and writes in a second pass (`run._write_all`).
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Iterator, Mapping
from itertools import islice
from pathlib import Path
from typing import Any, ClassVar, Protocol, TextIO, TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session

from civicgrid.authz.scope import Principal
from civicgrid.core import jobs
from civicgrid.core.db import Database
from civicgrid.registry.imports.fields import FIELDS, FieldSpec
from civicgrid.registry.sources import Source, cell_text, open_source

log = logging.getLogger("civicgrid.registry.importers")

MAX_PROBLEMS_IN_RESULT = 20
LOCATION = "location"  # a point's problem concerns lon and lat together

Batch = list[tuple[int, list[Any]]]  # (row number, cells) of consecutive rows


# -- the file --------------------------------------------------------------------------------------------


def batches(rows: Iterator[tuple[int, list[Any]]], size: int) -> Iterator[Batch]:
    while True:
        batch = list(islice(rows, size))
        if not batch:
            return
        yield batch


def file_header(path: Path, fmt: str, sheet: str | None = None, *, count: bool = False) -> Source:
    """The file opened and closed again: its header and encoding, with `count` its number of rows (422
    for a file that cannot be read)."""
    source = open_source(path, fmt, sheet, count=count)
    source.close()
    return source


def read_batches(path: Path, fmt: str, size: int, *, encoding: str | None, sheet: str | None = None) -> Iterator[Batch]:
    """The file's rows in batches of `size`, read again from the start (the encoding found when the job began)."""
    source = open_source(path, fmt, sheet, count=False, encoding=encoding)
    try:
        yield from batches(source.rows(), size)
    finally:
        source.close()


# -- the error report ------------------------------------------------------------------------------------

REPORT_HEADER = ("row", "column", "field", "value", "reason")


class ErrorReport:
    """Row errors written to a CSV file as they are found (UTF-8 with BOM, so Excel opens it)."""

    def __init__(self, path: Path, entity: str | Mapping[str, FieldSpec], field_columns: dict[str, str]) -> None:
        """`entity`: people or houses, or the field specs of another import (their masks apply)."""
        self.path = path
        self.specs = FIELDS[entity] if isinstance(entity, str) else entity
        self.field_columns = field_columns  # field → the file's column name
        self.problems = 0
        self.first: list[dict[str, Any]] = []
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO = path.open("w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._file)
        self._writer.writerow(REPORT_HEADER)

    def masked(self, field_name: str, raw: Any) -> str:
        text = cell_text(raw) or ""
        spec = self.specs.get(field_name)
        if text and spec is not None and spec.mask is not None:
            return spec.mask(text)
        return text

    def add(self, row: int, field_name: str, raw: Any, reason: str) -> None:
        line = {
            "row": row,
            "column": self.field_columns.get(field_name, ""),
            "field": field_name,
            "value": self.masked(field_name, raw),
            "reason": reason,
        }
        self._writer.writerow([line[k] for k in REPORT_HEADER])
        self.problems += 1
        if len(self.first) < MAX_PROBLEMS_IN_RESULT:
            self.first.append(line)

    def add_row(self, row: int, raw: dict[str, Any], problems: list[tuple[str, str]]) -> None:
        """A row's problems, each with its cell; a location problem shows the row's lon and lat."""
        for name, reason in problems:
            if name == LOCATION:
                value = ", ".join(cell_text(raw.get(n)) or "" for n in ("lon", "lat")) if "lon" in raw else ""
                self.add(row, name, value, reason)
            else:
                self.add(row, name, raw.get(name), reason)

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def outcome(self) -> dict[str, Any]:
        """The result's part about the report (after `close`); a report without problems is removed."""
        if not self.problems:
            self.path.unlink(missing_ok=True)
        return {
            "problems": self.problems,
            "first_problems": self.first,
            "error_report": str(self.path) if self.problems else None,
        }


def location_columns(field_columns: dict[str, str], fallback: str = "") -> dict[str, str]:
    """`field_columns` with the location's column: the lon and lat columns (or `fallback` without them)."""
    located = [field_columns[n] for n in ("lon", "lat") if n in field_columns]
    return {**field_columns, LOCATION: ", ".join(located) or fallback}


def report_for(
    report_dir: str, job_id: int, entity: str | Mapping[str, FieldSpec], field_columns: dict[str, str]
) -> ErrorReport:
    return ErrorReport(Path(report_dir) / f"job-{job_id}-errors.csv", entity, field_columns)


# -- the passes ------------------------------------------------------------------------------------------

Take = Callable[[Session, Batch], None]


def apply_valid(
    database: Database,
    rows: Iterator[Batch],
    take: Take,
    after_batch: Callable[[], None],
    wrote_any: Callable[[], bool],
    audit: Callable[[Session, bool], None],
) -> None:
    """apply_valid: each batch in a transaction of its own; the audit record is written however it ends."""
    try:
        for batch in rows:
            with database.unit_of_work() as session:
                take(session, batch)
            after_batch()
    finally:
        with database.unit_of_work() as session:
            audit(session, wrote_any())


class _Refused(Exception):
    pass


def all_or_nothing(
    database: Database,
    rows: Iterator[Batch],
    take: Take,
    after_batch: Callable[[Session], None],
    failed: Callable[[], bool],
    audit: Callable[[Session, bool], None],
) -> None:
    """all_or_nothing in one pass: the whole file in one transaction, committed only when no row failed."""
    try:
        with database.unit_of_work() as session:
            for batch in rows:
                take(session, batch)
                session.flush()
                after_batch(session)
            if failed():
                raise _Refused
            audit(session, True)
    except _Refused:
        with database.unit_of_work() as session:
            audit(session, False)


def nothing_written(failed: int, rows: int, noun: str, result: dict[str, Any]) -> jobs.JobFailed:
    return jobs.JobFailed(
        f"{failed:,} of {rows:,} {noun} have problems, so nothing was written (all_or_nothing); "
        "the error report lists each one",
        result,
    )


def analyze_table(session: Session, table: str) -> None:
    """Refresh the planner's statistics of `table` inside the write transaction (at batches 1, 2, 4, 8, …
    of a long import; PostgreSQL only).

    PostgreSQL's ANALYZE counts the rows this transaction inserted; without it the statistics (and the
    plans psycopg prepared for the batch lookups) still describe the table before the import — an empty
    table is scanned whole for every batch, which turns a million-row import quadratic. A savepoint keeps
    a refusal (a role that may not analyze) from aborting the import.
    """
    try:
        with session.begin_nested():
            session.execute(text(f"ANALYZE {table}"))
    except Exception:
        log.warning("could not ANALYZE %s during an import; it may run slowly", table)


# -- the job ---------------------------------------------------------------------------------------------


class _Spec(Protocol):
    """An import's dataclass of what its job needs: the uploaded file's path and the rest, as job params."""

    __dataclass_fields__: ClassVar[dict[str, Any]]
    path: str

    def params(self) -> dict[str, Any]: ...


SpecT = TypeVar("SpecT", bound=_Spec)
RunImport = Callable[[Database, Principal, int, SpecT, Callable[..., None]], dict[str, Any]]


def import_job(spec_type: type[SpecT], run_import: RunImport[SpecT]) -> jobs.Handler:
    """The job handler of an import: its spec from the job's params, the error report handed to the job
    (also when the import failed), the uploaded file removed however it ends."""

    def job(context: jobs.JobContext) -> dict[str, Any]:
        spec = spec_type(**{k: v for k, v in context.params.items() if k in spec_type.__dataclass_fields__})
        try:
            result = run_import(context.database, context.principal, context.job_id, spec, context.progress)
            if result.get("error_report"):
                context.set_error_report(result["error_report"])
            return result
        except jobs.JobFailed as exc:
            if exc.result and exc.result.get("error_report"):
                context.set_error_report(exc.result["error_report"])
            raise
        finally:
            Path(spec.path).unlink(missing_ok=True)

    return job
