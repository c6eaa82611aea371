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

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
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
from civicgrid.registry.imports import ErrorReport, locate_columns, pipeline
from civicgrid.registry.sources import sniff_format

JOB_KIND = "cases.hotline.import"
FORMATS = ("csv", "xlsx", "json")
# intake's field names → the ticket's
_FIELD_OF = {"category_code": "category", "reported_at": "received_at", "reporter_phone": "caller_phone"}
_COUNTED = ("rows", "created", "merged", "unchanged", "failed")


# -- the file --------------------------------------------------------------------------------------------


def sniff(path: Path, filename: str | None = None) -> str:
    """json (by name, or content starting with '[' or '{'), xlsx or csv."""
    return sniff_format(path, filename, allow_json=True)


def resolve_columns(header: list[str], columns: dict[str, str]) -> dict[str, int]:
    """field → column index. Fields the mapping leaves out are found by their name or usual heading
    (工单编号, 受理时间, …). ImportRejected listing every problem, before any row is read."""
    return locate_columns(header, columns, hotline.FIELDS, hotline.REQUIRED)


def check_file(path: Path, fmt: str, columns: dict[str, str]) -> dict[str, int]:
    """Open the file and check its encoding, shape and header against the mapping: the field → column
    index to read. ImportRejected (422) before any row is read."""
    return resolve_columns(pipeline.file_header(path, fmt).header, columns)


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

    def rows(self) -> Iterator[pipeline.Batch]:
        return pipeline.read_batches(
            Path(self.spec.path), self.spec.format, self.spec.batch_size, encoding=self.encoding
        )

    def take(self, session: Session, batch: pipeline.Batch) -> None:
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
                self.report.add_row(number, raw, problems)

    def progress(self, progress: Callable[..., None], **extra: Any) -> None:
        counts = self.counts
        progress(processed=counts.rows, succeeded=counts.succeeded, failed=counts.failed, **extra)

    def audit(self, session: Session, written: bool) -> None:
        audit.record(
            session,
            self.principal,
            "case.hotline_import",
            "job",
            self.job_id,
            details={
                "mode": self.spec.mode,
                "format": self.spec.format,
                "mapping": self.spec.mapping_name or "inline",
                "written": written,
                **{k: getattr(self.counts, k) for k in _COUNTED},
            },
        )


def _problem(exc: AppError) -> tuple[str, str]:
    details = exc.details
    first = details[0] if isinstance(details, list) and details and isinstance(details[0], dict) else {}
    name = str(first.get("field", "location" if exc.status_code == 404 else "ticket"))
    return _FIELD_OF.get(name, name), exc.message


def run_import(
    database: Database, principal: Principal, job_id: int, spec: HotlineSpec, progress: Callable[..., None]
) -> dict[str, Any]:
    """Run an import; `progress(processed=, succeeded=, failed=, total=, message=, [in_session=, force=])`."""
    require(principal, "case:import")
    source = pipeline.file_header(Path(spec.path), spec.format, count=True)
    columns = resolve_columns(source.header, spec.columns)
    field_columns = {name: source.header[i] for name, i in columns.items()}
    report = pipeline.report_for(spec.report_dir, job_id, hotline.FIELDS, pipeline.location_columns(field_columns))
    run = _Run(principal, job_id, spec, columns, report, encoding=source.encoding)
    progress(total=source.total, message="importing", force=True)
    counts = run.counts
    try:
        if spec.mode == "apply_valid":
            pipeline.apply_valid(
                database, run.rows(), run.take, lambda: run.progress(progress), lambda: counts.succeeded > 0, run.audit
            )
        else:
            pipeline.all_or_nothing(
                database,
                run.rows(),
                run.take,
                lambda session: run.progress(progress, in_session=session),
                lambda: counts.failed > 0,
                run.audit,
            )
    finally:
        report.close()
    written = spec.mode == "apply_valid" or not counts.failed
    result: dict[str, Any] = {
        "mode": spec.mode,
        "format": spec.format,
        "encoding": source.encoding,
        **{k: getattr(counts, k) for k in _COUNTED},
        "written": written,
        **report.outcome(),
    }
    if not written:
        raise pipeline.nothing_written(counts.failed, counts.rows, "tickets", result)
    return result


jobs.handler(JOB_KIND)(pipeline.import_job(HotlineSpec, run_import))
