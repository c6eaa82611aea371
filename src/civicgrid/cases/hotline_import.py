"""Importing a 12345 export (CSV, XLSX, JSON array or JSON Lines) as a background job (docs/cases-intake.md).

The file is read row by row (`registry.sources`) and each row taken in as a ticket
(`hotline.take_in`) inside a savepoint, so a refused row leaves nothing behind and the next goes on.
The two modes of every import (DESIGN.md §5):

- `apply_valid`: each batch of rows commits its good rows; the others go to the error report.
- `all_or_nothing`: every row is taken in inside one transaction, which commits only if none failed;
  otherwise nothing is written and the error report lists every failed row.

The error report is a CSV (row, column, field, value, reason; callers' names and phones masked); one
audit record per import carries the counts, never a ticket's content.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civicgrid.audit import service as audit
from civicgrid.authz.policy import require
from civicgrid.authz.scope import Principal
from civicgrid.cases import hotline
from civicgrid.core import jobs
from civicgrid.core.db import Database
from civicgrid.core.errors import AppError
from civicgrid.registry.imports import MAX_PROBLEMS_IN_RESULT, REPORT_HEADER, batches, locate_columns
from civicgrid.registry.sources import Source, cell_text, open_source, sniff_format

JOB_KIND = "cases.hotline.import"
FORMATS = ("csv", "xlsx", "json")
# intake's field names → the ticket's
_FIELD_OF = {"category_code": "category", "reported_at": "received_at", "reporter_phone": "caller_phone"}


# -- the file --------------------------------------------------------------------------------------------


def sniff(path: Path, filename: str | None = None) -> str:
    """json (by name, or content starting with '[' or '{'), xlsx or csv."""
    return sniff_format(path, filename, allow_json=True)


def open_tickets(path: Path, fmt: str, *, count: bool = True, encoding: str | None = None) -> Source:
    return open_source(path, fmt, None, count=count, encoding=encoding)


def resolve_columns(header: list[str], columns: dict[str, str]) -> dict[str, int]:
    """field → column index. Fields the mapping leaves out are found by their name or usual heading
    (工单编号, 受理时间, …). ImportRejected listing every problem, before any row is read."""
    return locate_columns(header, columns, hotline.FIELDS, hotline.REQUIRED)


def check_file(path: Path, fmt: str, columns: dict[str, str]) -> dict[str, int]:
    """Open the file and check its encoding, shape and header against the mapping: the field → column
    index to read. ImportRejected (422) before any row is read."""
    source = open_tickets(path, fmt, count=False)
    try:
        return resolve_columns(source.header, columns)
    finally:
        source.close()


# -- the error report ------------------------------------------------------------------------------------


class ErrorReport:
    """Row errors written to a CSV as they are found (UTF-8 with BOM, so Excel opens it), masked."""

    def __init__(self, path: Path, header: list[str], columns: dict[str, int]) -> None:
        self.path = path
        self.column_of = {name: header[index] for name, index in columns.items()}
        self.column_of["location"] = ", ".join(self.column_of.get(n, n) for n in ("lon", "lat"))
        self.problems = 0
        self.first: list[dict[str, Any]] = []
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO = path.open("w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._file)
        self._writer.writerow(REPORT_HEADER)

    def add(self, row: int, name: str, raw: dict[str, Any], reason: str) -> None:
        if name == "location":
            value = ", ".join(cell_text(raw.get(n)) or "" for n in ("lon", "lat"))
        else:
            value = cell_text(raw.get(name)) or ""
            spec = hotline.FIELDS.get(name)
            if value and spec is not None and spec.mask is not None:
                value = spec.mask(value)
        line = {"row": row, "column": self.column_of.get(name, ""), "field": name, "value": value, "reason": reason}
        self._writer.writerow([line[k] for k in REPORT_HEADER])
        self.problems += 1
        if len(self.first) < MAX_PROBLEMS_IN_RESULT:
            self.first.append(line)

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


# -- running an import -----------------------------------------------------------------------------------


@dataclass
class HotlineSpec:
    """What the job needs: the uploaded file and how to read it."""

    path: str
    format: str
    mode: str
    columns: dict[str, str]  # file column → ticket field (the rest by their headings)
    categories: dict[str, str]  # the hotline's category name → case category code
    mapping_name: str | None = None
    batch_size: int = 500
    report_dir: str = "var/imports"
    timezone: str = "Asia/Shanghai"
    duplicate_metres: float = 100.0
    duplicate_hours: float = 72.0

    def params(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Counts:
    rows: int = 0
    created: int = 0
    merged: int = 0
    unchanged: int = 0
    failed: int = 0

    @property
    def succeeded(self) -> int:
        return self.created + self.merged + self.unchanged


@dataclass
class _Run:
    principal: Principal
    job_id: int
    spec: HotlineSpec
    columns: dict[str, int]
    report: ErrorReport
    encoding: str | None = None
    counts: Counts = field(default_factory=Counts)

    def rows(self) -> Iterator[list[tuple[int, list[Any]]]]:
        source = open_tickets(Path(self.spec.path), self.spec.format, count=False, encoding=self.encoding)
        try:
            yield from batches(source.rows(), self.spec.batch_size)
        finally:
            source.close()

    def take(self, session: Session, batch: list[tuple[int, list[Any]]]) -> None:
        """Take the batch's rows in, each in a savepoint; report the refused ones."""
        tz = ZoneInfo(self.spec.timezone)
        for number, cells in batch:
            raw = {name: (cells[i] if i < len(cells) else None) for name, i in self.columns.items()}
            ticket, problems = hotline.read_ticket(raw, self.spec.categories, tz)
            if ticket is not None:
                try:
                    with session.begin_nested():
                        status, _case = hotline.take_in(
                            session,
                            self.principal,
                            ticket,
                            job_id=self.job_id,
                            duplicate_metres=self.spec.duplicate_metres,
                            duplicate_hours=self.spec.duplicate_hours,
                        )
                    setattr(self.counts, status, getattr(self.counts, status) + 1)
                except AppError as exc:
                    problems = [_problem(exc)]
                except IntegrityError:
                    problems = [("ticket_no", "another import took this ticket in meanwhile; import the file again")]
            self.counts.rows += 1
            if problems:
                self.counts.failed += 1
                for name, reason in problems:
                    self.report.add(number, name, raw, reason)


def _problem(exc: AppError) -> tuple[str, str]:
    details = exc.details
    first = details[0] if isinstance(details, list) and details and isinstance(details[0], dict) else {}
    name = str(first.get("field", "location" if exc.status_code == 404 else "ticket"))
    return _FIELD_OF.get(name, name), exc.message


def _audit(session: Session, run: _Run, written: bool) -> None:
    counts = run.counts
    audit.record(
        session,
        run.principal,
        "case.hotline_import",
        "job",
        run.job_id,
        details={
            "mode": run.spec.mode,
            "format": run.spec.format,
            "mapping": run.spec.mapping_name or "inline",
            "written": written,
            **{k: getattr(counts, k) for k in ("rows", "created", "merged", "unchanged", "failed")},
        },
    )


def run_import(
    database: Database, principal: Principal, job_id: int, spec: HotlineSpec, progress: Callable[..., None]
) -> dict[str, Any]:
    """Run an import; `progress(processed=, succeeded=, failed=, total=, message=, [in_session=, force=])`."""
    require(principal, "case:import")
    source = open_tickets(Path(spec.path), spec.format)
    source.close()
    columns = resolve_columns(source.header, spec.columns)
    report = ErrorReport(Path(spec.report_dir) / f"job-{job_id}-errors.csv", source.header, columns)
    run = _Run(principal, job_id, spec, columns, report, encoding=source.encoding)
    progress(total=source.total, message="importing", force=True)
    counts = run.counts
    try:
        if spec.mode == "apply_valid":
            try:
                for batch in run.rows():
                    with database.unit_of_work() as session:
                        run.take(session, batch)
                    progress(processed=counts.rows, succeeded=counts.succeeded, failed=counts.failed)
            finally:
                with database.unit_of_work() as session:
                    _audit(session, run, counts.succeeded > 0)
        else:
            _all_or_nothing(database, run, progress)
    finally:
        report.close()
    written = spec.mode == "apply_valid" or not counts.failed
    result: dict[str, Any] = {
        "mode": spec.mode,
        "format": spec.format,
        "encoding": source.encoding,
        **{k: getattr(counts, k) for k in ("rows", "created", "merged", "unchanged", "failed")},
        "written": written,
        "problems": report.problems,
        "first_problems": report.first,
        "error_report": str(report.path) if report.problems else None,
    }
    if not report.problems:
        report.path.unlink(missing_ok=True)
    if not written:
        raise jobs.JobFailed(
            f"{counts.failed:,} of {counts.rows:,} tickets have problems, so nothing was written (all_or_nothing); "
            "the error report lists each one",
            result,
        )
    return result


class _Refused(Exception):
    pass


def _all_or_nothing(database: Database, run: _Run, progress: Callable[..., None]) -> None:
    counts = run.counts
    try:
        with database.unit_of_work() as session:
            for batch in run.rows():
                run.take(session, batch)
                session.flush()
                progress(processed=counts.rows, succeeded=counts.succeeded, failed=counts.failed, in_session=session)
            if counts.failed:
                raise _Refused
            _audit(session, run, True)
    except _Refused:
        with database.unit_of_work() as session:
            _audit(session, run, False)


def _job(context: jobs.JobContext) -> dict[str, Any]:
    spec = HotlineSpec(**{k: v for k, v in context.params.items() if k in HotlineSpec.__dataclass_fields__})
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


jobs.handler(JOB_KIND)(_job)
