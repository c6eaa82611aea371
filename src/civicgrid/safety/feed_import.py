"""Importing a police-call or incident feed (CSV, JSON array or JSON Lines) as a background job
(docs/safety-feeds.md).

The file is read row by row (`registry.sources`) in batches; each row is read into a record
(`feeds.read_record`), the batch's points are placed in one grid lookup, and the good records are stored
(`incidents.store`: records stored before are skipped and counted as duplicates). The two modes of
every import (DESIGN.md §5):

- `apply_valid`: each batch commits its good records; the other rows go to the error report.
- `all_or_nothing`: the whole file is read in one transaction, which commits only if no row failed;
  after the first failed row nothing more is written, but every row is still checked, so the error
  report lists them all.

When the mapping says `unknown_category = reject`, a first pass reads the category column only, and a
file with any label the table lacks is refused whole before anything is written, listing each unknown
label with its number of rows. The error report is a CSV (row, column, field, value, reason); one audit
record per import carries the counts, never a record's content.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy.orm import Session

from civicgrid.audit import service as audit
from civicgrid.authz.policy import require
from civicgrid.authz.scope import Principal
from civicgrid.core import jobs
from civicgrid.core.clock import utcnow
from civicgrid.core.db import Database
from civicgrid.core.errors import ImportRejected
from civicgrid.registry.imports import MAX_PROBLEMS_IN_RESULT, ErrorReport, analyze_table, locate_columns, pipeline
from civicgrid.registry.sources import cell_text, sniff_format
from civicgrid.safety import incidents
from civicgrid.safety.feed_mappings import category_table
from civicgrid.safety.feeds import FIELDS, REQUIRED, CategoryTable, Record, place, read_record

JOB_KIND = "safety.feed.import"
PERMISSION = "safety:import"
MODES = ("apply_valid", "all_or_nothing")
BATCH_SIZE = 5_000
UNKNOWN_LISTED = 50  # unknown labels named in a message or a result; the rest are counted


# -- the file --------------------------------------------------------------------------------------------


def sniff(path: Path, filename: str | None = None) -> str:
    """json (by name, or content starting with '[' or '{') or csv; a spreadsheet is refused."""
    fmt = sniff_format(path, filename, allow_json=True)
    if fmt == "xlsx":
        message = "a feed is read from CSV (UTF-8 or GBK), a JSON array or JSON Lines; save the sheet as CSV"
        raise ImportRejected(message, details=[{"row": None, "field": "file", "problem": message}])
    return fmt


def resolve_columns(header: list[str], columns: dict[str, str]) -> dict[str, int]:
    """field → column index (unmapped fields by their name or usual heading, 警情编号, 报警时间, …).
    ImportRejected before any row is read when a required column or every location column is missing."""
    found = locate_columns(header, columns, FIELDS, REQUIRED)
    problem = None
    if ("lon" in found) != ("lat" in found):
        problem = (
            f"the file has a {'lon' if 'lon' in found else 'lat'} column but no {'lat' if 'lon' in found else 'lon'}"
        )
    elif "lon" not in found and "address_code" not in found:
        problem = "the file needs lon and lat columns, or an address code column (a division code), to place records"
    if problem:
        raise ImportRejected(
            f"{problem}; nothing was imported", details=[{"row": 1, "field": "mapping", "problem": problem}]
        )
    return found


def check_file(path: Path, fmt: str, columns: dict[str, str]) -> dict[str, int]:
    """Open the file and check its encoding, shape and header against the mapping (ImportRejected, 422)."""
    return resolve_columns(pipeline.file_header(path, fmt).header, columns)


# -- running an import -----------------------------------------------------------------------------------


@dataclass
class FeedSpec:
    """What the job needs: the uploaded file, and the mapping as it was when the import was started."""

    path: str
    format: str
    mode: str
    mapping_id: int
    mapping_name: str
    source: str
    columns: dict[str, str]
    categories: dict[str, str]
    unknown_category: str = "report"
    fallback_category: str | None = None
    batch_size: int = BATCH_SIZE
    report_dir: str = "var/imports"

    def params(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Counts:
    rows: int = 0
    created: int = 0
    duplicates: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class _Run:
    principal: Principal
    job_id: int
    spec: FeedSpec
    table: CategoryTable
    columns: dict[str, int]
    report: ErrorReport
    encoding: str | None = None
    counts: Counts = field(default_factory=Counts)
    unknown: Counter[str] = field(default_factory=Counter)
    seen: dict[str, int] = field(default_factory=dict)  # record id → the row that first gave it
    duplicate_examples: list[str] = field(default_factory=list)
    batches: int = 0

    def rows(self) -> Iterator[pipeline.Batch]:
        return pipeline.read_batches(
            Path(self.spec.path), self.spec.format, self.spec.batch_size, encoding=self.encoding
        )

    def _fail(self, number: int, raw: dict[str, Any], problems: list[tuple[str, str]]) -> None:
        self.counts.failed += 1
        self.report.add_row(number, raw, problems)

    def take(self, session: Session, batch: pipeline.Batch, *, write: bool) -> None:
        """Read, place and (with `write`) store the batch's rows; report the refused ones."""
        self.batches += 1
        if write and self.batches & (self.batches - 1) == 0 and session.get_bind().dialect.name == "postgresql":
            # Without statistics PostgreSQL looks the known keys up by source alone: every batch would read
            # every record stored before it (100,000 rows: 200 s instead of 40 s).
            analyze_table(session, "safety_incident")
        now = utcnow()
        source, table, columns = self.spec.source, self.table, self.columns.items()
        records: list[Record] = []
        kept: list[tuple[int, dict[str, Any]]] = []
        for number, cells in batch:
            raw = {name: (cells[i] if i < len(cells) else None) for name, i in columns}
            record, problems, unknown = read_record(raw, source, table, now)
            self.counts.rows += 1
            if unknown is not None:
                self.unknown[unknown] += 1
            record_id = record.record_id if record is not None else cell_text(raw.get("record_id"))
            if record_id is not None:
                first = self.seen.setdefault(record_id, number)
                if first != number:
                    problems = [*problems, ("record_id", f"{record_id!r} is given again; row {first} has it already")]
                    record = None
            if record is None:
                self._fail(number, raw, problems)
            else:
                records.append(record)
                kept.append((number, raw))
        misplaced: dict[int, list[tuple[str, str]]] = {}
        for i, name, reason in place(session, records, self.principal):
            misplaced.setdefault(i, []).append((name, reason))
        for i, problems in misplaced.items():
            self._fail(*kept[i], problems)
        good = [r for i, r in enumerate(records) if i not in misplaced]
        if write and good:
            stored = incidents.store(session, good, job_id=self.job_id)
            self.counts.created += len(stored.created)
            self.counts.duplicates += len(stored.duplicates)
            room = MAX_PROBLEMS_IN_RESULT - len(self.duplicate_examples)
            self.duplicate_examples.extend(stored.duplicates[: max(room, 0)])

    def progress(self, progress: Callable[..., None], **extra: Any) -> None:
        counts = self.counts
        progress(processed=counts.rows, succeeded=counts.created + counts.duplicates, failed=counts.failed, **extra)

    def audit(self, session: Session, written: bool, refused: str | None = None) -> None:
        audit.record(
            session,
            self.principal,
            "safety.feed_import",
            "job",
            self.job_id,
            details={
                "mode": self.spec.mode,
                "format": self.spec.format,
                "source": self.spec.source,
                "mapping": self.spec.mapping_name,
                "written": written,
                "refused": refused,
                **self.counts.as_dict(),
            },
        )


def _unknown_list(table: CategoryTable, unknown: Counter[str]) -> list[dict[str, Any]]:
    action = {"reject": "file refused", "report": "rows refused", "fallback": f"counted as {table.fallback}"}
    return [
        {"label": label, "rows": rows, "action": action[table.policy]}
        for label, rows in unknown.most_common(UNKNOWN_LISTED)
    ]


def _scan_categories(run: _Run) -> Counter[str]:
    """The labels the table lacks, with their rows (the first pass of `unknown_category = reject`)."""
    unknown: Counter[str] = Counter()
    position = run.columns["category"]
    for batch in run.rows():
        for _number, cells in batch:
            label = cell_text(cells[position]) if position < len(cells) else None
            if label is not None and run.table.code_of(label) is None:
                unknown[label] += 1
    return unknown


def run_import(
    database: Database, principal: Principal, job_id: int, spec: FeedSpec, progress: Callable[..., None]
) -> dict[str, Any]:
    """Run an import; `progress(processed=, succeeded=, failed=, total=, message=, [in_session=, force=])`.
    JobFailed (with the result) when the file is refused or, in all_or_nothing, any row failed."""
    require(principal, PERMISSION)
    source = pipeline.file_header(Path(spec.path), spec.format, count=True)
    columns = resolve_columns(source.header, spec.columns)
    with database.unit_of_work(write=False) as session:
        table = category_table(session, spec.categories, spec.unknown_category, spec.fallback_category)
    field_columns = {name: source.header[i] for name, i in columns.items()}
    report = pipeline.report_for(
        spec.report_dir, job_id, FIELDS, pipeline.location_columns(field_columns, field_columns.get("address_code", ""))
    )
    run = _Run(principal, job_id, spec, table, columns, report, encoding=source.encoding)
    result: dict[str, Any] = {
        "mode": spec.mode,
        "format": spec.format,
        "encoding": source.encoding,
        "source": spec.source,
        "mapping": spec.mapping_name,
        "unknown_category": table.policy,
    }
    try:
        if table.policy == "reject":
            progress(total=source.total, message="checking categories", force=True)
            unknown = _scan_categories(run)
            if unknown:
                _refuse_unknown(database, run, unknown, result)
        progress(
            total=source.total, message="checking rows" if spec.mode == "all_or_nothing" else "importing", force=True
        )
        if spec.mode == "apply_valid":
            pipeline.apply_valid(
                database,
                run.rows(),
                partial(run.take, write=True),
                lambda: run.progress(progress),
                lambda: run.counts.created > 0,
                run.audit,
            )
        else:
            # After the first failed row nothing more is written, but every row is still checked.
            pipeline.all_or_nothing(
                database,
                run.rows(),
                lambda session, batch: run.take(session, batch, write=not run.counts.failed),
                lambda session: run.progress(progress, in_session=session),
                lambda: run.counts.failed > 0,
                run.audit,
            )
    finally:
        report.close()
    counts = run.counts
    written = spec.mode == "apply_valid" or not counts.failed
    result.update(
        {
            **counts.as_dict(),
            "written": written,
            "duplicate_examples": run.duplicate_examples,
            "unknown_categories": _unknown_list(table, run.unknown),
            **report.outcome(),
        }
    )
    if not written:
        raise pipeline.nothing_written(counts.failed, counts.rows, "rows", result)
    return result


def _refuse_unknown(database: Database, run: _Run, unknown: Counter[str], result: dict[str, Any]) -> NoReturn:
    listed = ", ".join(f"{label!r} ({rows:,} rows)" for label, rows in unknown.most_common(UNKNOWN_LISTED))
    more = f" and {len(unknown) - UNKNOWN_LISTED:,} more" if len(unknown) > UNKNOWN_LISTED else ""
    message = (
        f"the file has {len(unknown):,} categories the mapping's table lacks, so nothing was imported "
        f"(unknown_category = reject): {listed}{more}; add them to the mapping's category table, or set its "
        "unknown_category to report or fallback"
    )
    with database.unit_of_work() as session:
        run.audit(session, False, refused="unknown categories")
    run.report.close()
    run.report.path.unlink(missing_ok=True)
    result.update(
        {
            **run.counts.as_dict(),
            "written": False,
            "duplicate_examples": [],
            "unknown_categories": _unknown_list(run.table, unknown),
            "problems": 0,
            "first_problems": [],
            "error_report": None,
        }
    )
    raise jobs.JobFailed(message, result)


jobs.handler(JOB_KIND)(pipeline.import_job(FeedSpec, run_import))
