"""Running a registry import: its passes over the file (on `pipeline`), the audit record and the job handlers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicgrid.audit import service as audit
from civicgrid.authz.scope import Principal
from civicgrid.core import jobs
from civicgrid.core.crypto import Keyring, get_keyring
from civicgrid.core.db import Database
from civicgrid.registry import people
from civicgrid.registry.imports.fields import auto_mapping, require_import, resolve_columns
from civicgrid.registry.imports.house_rows import HouseImporter
from civicgrid.registry.imports.people_rows import PeopleImporter
from civicgrid.registry.imports.pipeline import (
    Batch,
    ErrorReport,
    analyze_table,
    apply_valid,
    file_header,
    import_job,
    nothing_written,
    read_batches,
    report_for,
)
from civicgrid.registry.imports.rows import BaseImporter, CellReader, Counts, Row
from civicgrid.registry.models import Person

IMPORTERS: dict[str, type[BaseImporter]] = {"people": PeopleImporter, "houses": HouseImporter}


# -- running an import -----------------------------------------------------------------------------------


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
    header = file_header(path, fmt, sheet).header
    used = mapping if mapping else auto_mapping(entity, header)
    resolve_columns(entity, header, used)
    return used


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
        report.add_row(row.number, row.raw, row.problems)


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
    source = file_header(Path(spec.path), spec.format, spec.sheet, count=True)
    spec.encoding = source.encoding
    columns = resolve_columns(spec.entity, source.header, spec.mapping)
    report = report_for(spec.report_dir, job_id, spec.entity, {f: source.header[i] for f, i in columns.items()})
    on = people.today()
    with database.unit_of_work(write=False) as session:
        reader = CellReader(session)
    importer = IMPORTERS[spec.entity](principal, keyring, columns, reader, on)
    progress(total=source.total, message="checking rows" if spec.mode == "all_or_nothing" else "importing", force=True)
    total = Counts()
    written = False

    def take(session: Session, batch: Batch, *, write: bool = True) -> None:
        nonlocal written
        counts, rows = importer.process(session, batch, write=write)
        written = written or counts.succeeded > 0
        total.add(counts)
        _report_problems(report, rows)

    def after_batch() -> None:
        progress(processed=total.rows, succeeded=total.succeeded, failed=total.failed)

    def audit_import(session: Session, wrote: bool) -> None:
        _finish_audit(session, principal, job_id, spec, total, wrote)

    try:
        if spec.mode == "apply_valid":
            apply_valid(database, _rows(spec), take, after_batch, lambda: written, audit_import)
        else:
            for batch in _rows(spec):
                with database.unit_of_work(write=False) as session:
                    take(session, batch, write=False)
                after_batch()
            if total.failed:
                with database.unit_of_work() as session:
                    audit_import(session, False)
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
        **report.outcome(),
    }
    if spec.mode == "all_or_nothing" and total.failed:
        raise nothing_written(total.failed, total.rows, "rows", result)
    return result


def _rows(spec: ImportSpec) -> Iterator[Batch]:
    return read_batches(Path(spec.path), spec.format, spec.batch_size, encoding=spec.encoding, sheet=spec.sheet)


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
            for number, batch_rows in enumerate(_rows(spec), 1):
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


_job = import_job(ImportSpec, run_import)
jobs.handler("registry.import.people")(_job)
jobs.handler("registry.import.houses")(_job)


def count_people(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Person)) or 0
