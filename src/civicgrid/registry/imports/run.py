"""Running an import: the job's passes over the file, the error report, the audit record and the job handlers."""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from civicgrid.audit import service as audit
from civicgrid.authz.scope import Principal
from civicgrid.core import jobs
from civicgrid.core.crypto import Keyring, get_keyring
from civicgrid.core.db import Database
from civicgrid.registry import people
from civicgrid.registry.imports.fields import FIELDS, FieldSpec, auto_mapping, require_import, resolve_columns
from civicgrid.registry.imports.house_rows import HouseImporter
from civicgrid.registry.imports.people_rows import PeopleImporter
from civicgrid.registry.imports.rows import BaseImporter, CellReader, Counts, Row
from civicgrid.registry.models import Person
from civicgrid.registry.sources import cell_text, open_source

log = logging.getLogger("civicgrid.registry.importers")

MAX_PROBLEMS_IN_RESULT = 20


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

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


IMPORTERS: dict[str, type[BaseImporter]] = {"people": PeopleImporter, "houses": HouseImporter}


# -- running an import -----------------------------------------------------------------------------------


def batches(rows: Iterator[tuple[int, list[Any]]], size: int) -> Iterator[list[tuple[int, list[Any]]]]:
    while True:
        batch = list(islice(rows, size))
        if not batch:
            return
        yield batch


@dataclass
class ImportSpec:
    """What the job needs: the uploaded file and how to read it."""

    entity: str
    mode: str
    path: str
    format: str
    mapping: dict[str, str]
    mapping_name: str | None = None
    sheet: str | None = None
    batch_size: int = 2000
    report_dir: str = "var/imports"
    encoding: str | None = None  # decided when the job starts

    def params(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "mode": self.mode,
            "path": self.path,
            "format": self.format,
            "mapping": self.mapping,
            "mapping_name": self.mapping_name,
            "sheet": self.sheet,
            "batch_size": self.batch_size,
            "report_dir": self.report_dir,
        }


def check_file(path: Path, entity: str, fmt: str, mapping: dict[str, str] | None, sheet: str | None) -> dict[str, str]:
    """Open the file, check its encoding and header against the mapping (or build one from the header);
    the mapping to use. ImportRejected before any row is read."""
    source = open_source(path, fmt, sheet, count=False)
    try:
        used = mapping if mapping else auto_mapping(entity, source.header)
        resolve_columns(entity, source.header, used)
        return used
    finally:
        source.close()


def _finish_audit(
    session: Session, principal: Principal, job_id: int, spec: ImportSpec, counts: Counts, written: bool
) -> None:
    audit.record(
        session,
        principal,
        f"registry.import_{spec.entity}",
        "job",
        job_id,
        details={
            "mode": spec.mode,
            "format": spec.format,
            "mapping": spec.mapping_name or "inline",
            "written": written,
            **counts.as_dict(),
        },
    )


def _report_problems(report: ErrorReport, rows: list[Row]) -> None:
    for row in rows:
        for name, problem in row.problems:
            report.add(row.number, name, row.raw.get(name), problem)


def run_import(
    database: Database,
    principal: Principal,
    job_id: int,
    spec: ImportSpec,
    progress: Callable[..., None],
    keyring: Keyring | None = None,
) -> dict[str, Any]:
    """Run an import; progress(processed=, succeeded=, failed=, total=, message=, [in_session=, force=])."""
    require_import(principal, spec.entity)
    keyring = keyring or get_keyring()
    path = Path(spec.path)
    report_path = Path(spec.report_dir) / f"job-{job_id}-errors.csv"
    source = open_source(path, spec.format, spec.sheet)
    source.close()
    spec.encoding = source.encoding
    columns = resolve_columns(spec.entity, source.header, spec.mapping)
    field_columns = {f: source.header[i] for f, i in columns.items()}
    report = ErrorReport(report_path, spec.entity, field_columns)
    on = people.today()
    with database.unit_of_work(write=False) as session:
        reader = CellReader(session)
    importer = IMPORTERS[spec.entity](principal, keyring, columns, reader, on)
    progress(total=source.total, message="checking rows" if spec.mode == "all_or_nothing" else "importing", force=True)
    total = Counts()
    result: dict[str, Any]
    try:
        if spec.mode == "apply_valid":
            written = False
            try:
                for batch_rows in _rows(path, spec):
                    with database.unit_of_work() as session:
                        counts, rows = importer.process(session, batch_rows, write=True)
                    written = written or counts.succeeded > 0
                    total.add(counts)
                    _report_problems(report, rows)
                    progress(processed=total.rows, succeeded=total.succeeded, failed=total.failed)
            finally:
                with database.unit_of_work() as session:
                    _finish_audit(session, principal, job_id, spec, total, written)
        else:
            for batch_rows in _rows(path, spec):
                with database.unit_of_work(write=False) as session:
                    counts, rows = importer.process(session, batch_rows, write=False)
                total.add(counts)
                _report_problems(report, rows)
                progress(processed=total.rows, succeeded=total.succeeded, failed=total.failed)
            if total.failed:
                with database.unit_of_work() as session:
                    _finish_audit(session, principal, job_id, spec, total, False)
            else:
                total = _write_all(database, principal, job_id, spec, importer, progress)
    finally:
        report.close()
    result = {
        "entity": spec.entity,
        "mode": spec.mode,
        "format": spec.format,
        "encoding": source.encoding,
        **total.as_dict(),
        "written": spec.mode == "apply_valid" or not total.failed,
        "problems": report.problems,
        "first_problems": report.first,
    }
    if report.problems == 0:
        report.path.unlink(missing_ok=True)
        result["error_report"] = None
    else:
        result["error_report"] = str(report.path)
    if spec.mode == "all_or_nothing" and total.failed:
        raise jobs.JobFailed(
            f"{total.failed:,} of {total.rows:,} rows have problems, so nothing was written (all_or_nothing); "
            "the error report lists each one",
            result,
        )
    return result


def _rows(path: Path, spec: ImportSpec) -> Iterator[list[tuple[int, list[Any]]]]:
    source = open_source(path, spec.format, spec.sheet, count=False, encoding=spec.encoding)
    try:
        yield from batches(source.rows(), spec.batch_size)
    finally:
        source.close()


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


class _Changed(Exception):
    pass


def _write_all(
    database: Database,
    principal: Principal,
    job_id: int,
    spec: ImportSpec,
    importer: BaseImporter,
    progress: Callable[..., None],
) -> Counts:
    """The second pass of all_or_nothing: every row written in one transaction, or none."""
    total = Counts()
    progress(processed=0, succeeded=0, failed=0, message="writing rows", force=True)
    try:
        with database.unit_of_work() as session:
            postgres = session.get_bind().dialect.name == "postgresql"
            for number, batch_rows in enumerate(_rows(Path(spec.path), spec), 1):
                if postgres and number & (number - 1) == 0:
                    analyze_table(session, "registry_person" if importer.entity == "people" else "registry_house")
                counts, rows = importer.process(session, batch_rows, write=True)
                total.add(counts)
                if counts.failed:
                    bad = next(r for r in rows if not r.ok)
                    raise _Changed(f"row {bad.number}: {bad.problems[0][1]}")
                session.flush()
                progress(processed=total.rows, succeeded=total.succeeded, failed=0, in_session=session)
            _finish_audit(session, principal, job_id, spec, total, True)
    except _Changed as exc:
        raise jobs.JobFailed(
            f"the registry changed while the file was imported ({exc}); nothing was written — import it again"
        ) from None
    return total


# -- the job handlers ------------------------------------------------------------------------------------


def _job(context: jobs.JobContext) -> dict[str, Any]:
    spec = ImportSpec(**{k: v for k, v in context.params.items() if k in ImportSpec.__dataclass_fields__})
    try:
        result = run_import(
            context.database,
            context.principal,
            context.job_id,
            spec,
            context.progress,
        )
        if result.get("error_report"):
            context.set_error_report(result["error_report"])
        return result
    except jobs.JobFailed as exc:
        if exc.result and exc.result.get("error_report"):
            context.set_error_report(exc.result["error_report"])
        raise
    finally:
        Path(spec.path).unlink(missing_ok=True)


jobs.handler("registry.import.people")(_job)
jobs.handler("registry.import.houses")(_job)


def count_people(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Person)) or 0
