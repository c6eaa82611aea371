"""Export of a scoped selection of people or houses to CSV or XLSX, masked, streamed.

The selection is the list endpoint's query (`people.query_people`, `houses.query_houses`: the caller's
scope and filters). Rows are read in keyset-ordered chunks of 2,000, each in its own short read
transaction, and written out as they come: CSV straight into the response, XLSX through openpyxl's
write-only workbook into a temporary file that is streamed and then deleted. Memory stays constant.

Masking follows the API's responses, and there is no unmasked export: names (and former and foreign
names, house owners) as 张*明, ID numbers as 340302********1234, phones as 138****5678, document
numbers keep 2 and 2; birth dates are reduced to the year.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicgrid.authz.policy import require
from civicgrid.authz.scope import Principal
from civicgrid.core.crypto import Keyring
from civicgrid.core.db import AnySelect, Database
from civicgrid.core.masking import mask_id_number, mask_name, mask_phone
from civicgrid.registry import houses, people
from civicgrid.registry.models import House, Person

CHUNK = 2000
XLSX_MAX_ROWS = 1_048_576  # rows per worksheet, header included
FORMATS = ("csv", "xlsx")

PEOPLE_COLUMNS = (
    "id",
    "person_type",
    "name",
    "sex",
    "birth_year",
    "ethnicity",
    "id_number",
    "phone",
    "nationality",
    "document_no",
    "house_id",
    "address",
    "grid_code",
    "community_code",
    "status",
    "review_status",
    "key_attention",
)
HOUSE_COLUMNS = (
    "id",
    "address",
    "street_address",
    "building",
    "unit",
    "room",
    "use",
    "owner_name",
    "owner_id_number",
    "area_m2",
    "lon",
    "lat",
    "grid_code",
    "community_code",
)


def mask_document(value: str) -> str:
    return value[:2] + "*" * max(0, len(value) - 4) + value[-2:] if len(value) > 4 else "*" * len(value)


def _masked(keyring: Keyring, token: bytes | None, context: str, mask: Callable[[str], str]) -> str | None:
    return None if token is None else mask(keyring.decrypt(token, context=context))


def people_rows(session: Session, keyring: Keyring, chunk: list[Person]) -> list[list[Any]]:
    house_ids = {p.house_id for p in chunk if p.house_id is not None}
    addresses = (
        {r[0]: r[1] for r in session.execute(select(House.id, House.address).where(House.id.in_(house_ids)))}
        if house_ids
        else {}
    )
    return [
        [
            p.id,
            p.person_type,
            mask_name(p.name),
            p.sex,
            p.birth_date.year,
            p.ethnicity,
            _masked(keyring, p.id_number_enc, people.ID_CONTEXT, mask_id_number),
            _masked(keyring, p.phone_enc, people.PHONE_CONTEXT, mask_phone),
            p.nationality,
            _masked(keyring, p.document_no_enc, people.DOCUMENT_CONTEXT, mask_document),
            p.house_id,
            addresses.get(p.house_id) if p.house_id is not None else None,
            p.grid_code,
            p.community_code,
            p.status,
            p.review_status,
            p.key_attention,
        ]
        for p in chunk
    ]


def house_rows(session: Session, keyring: Keyring, chunk: list[House]) -> list[list[Any]]:
    return [
        [
            h.id,
            h.address,
            h.street_address,
            h.building,
            h.unit,
            h.room,
            h.use,
            mask_name(h.owner_name) if h.owner_name else None,
            _masked(keyring, h.owner_id_number_enc, houses.OWNER_ID_CONTEXT, mask_id_number),
            h.area_m2,
            h.lon,
            h.lat,
            h.grid_code,
            h.community_code,
        ]
        for h in chunk
    ]


class Export:
    """One export: the selection, its size when it began, and how its rows are made."""

    def __init__(self, entity: str, query: AnySelect, keyring: Keyring) -> None:
        self.entity = entity
        self.model: Any = Person if entity == "people" else House
        self.query = query
        self.keyring = keyring
        self.columns = PEOPLE_COLUMNS if entity == "people" else HOUSE_COLUMNS
        self.make_rows = people_rows if entity == "people" else house_rows
        self.rows = 0
        self.max_id = 0

    def measure(self, session: Session) -> int:
        """Count the selection and remember its highest id: rows added later are not exported."""
        subquery = self.query.order_by(None).subquery()
        count, max_id = session.execute(select(func.count(), func.max(subquery.c.id))).one()
        self.rows, self.max_id = int(count or 0), int(max_id or 0)
        return self.rows

    def chunks(self, database: Database) -> Iterator[list[list[Any]]]:
        last = 0
        model = self.model
        while True:
            with database.unit_of_work(write=False) as session:
                query = self.query.where(model.id > last, model.id <= self.max_id).order_by(model.id).limit(CHUNK)
                chunk = list(session.scalars(query))
                if not chunk:
                    return
                rows = self.make_rows(session, self.keyring, chunk)
            last = chunk[-1].id
            yield rows


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def csv_stream(export: Export, database: Database) -> Iterator[bytes]:
    """The CSV as UTF-8 with a byte-order mark (Excel reads it), chunk by chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(export.columns)
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
    for rows in export.chunks(database):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([[_cell(v) for v in row] for row in rows])
        yield buffer.getvalue().encode("utf-8")


def write_xlsx(export: Export, database: Database, path: Path) -> None:
    """The selection as a write-only workbook (a new sheet every 1,048,575 rows)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet: Any = None
    in_sheet = XLSX_MAX_ROWS
    sheets = 0
    for rows in export.chunks(database):
        for row in rows:
            if in_sheet >= XLSX_MAX_ROWS:
                sheets += 1
                sheet = workbook.create_sheet(export.entity if sheets == 1 else f"{export.entity} {sheets}")
                sheet.append(list(export.columns))
                in_sheet = 1
            sheet.append([None if v is None else v for v in row])
            in_sheet += 1
    if sheet is None:
        workbook.create_sheet(export.entity).append(list(export.columns))
    workbook.save(path)


def xlsx_stream(export: Export, database: Database, directory: Path) -> Iterator[bytes]:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"export-{uuid.uuid4().hex}.xlsx"
    try:
        write_xlsx(export, database, path)
        with path.open("rb") as f:
            while chunk := f.read(1 << 16):
                yield chunk
    finally:
        path.unlink(missing_ok=True)


def start_export(
    session: Session,
    principal: Principal,
    keyring: Keyring,
    entity: str,
    fmt: str,
    filters: people.PersonFilter | houses.HouseFilter,
) -> Export:
    """Check permissions, measure the selection and audit the export (filters and row count)."""
    from dataclasses import asdict

    from civicgrid.audit import service as audit

    require(principal, "registry:export")
    if isinstance(filters, people.PersonFilter):
        query = people.query_people(principal, filters)
    else:
        query = houses.query_houses(principal, filters)
    export = Export(entity, query, keyring)
    export.measure(session)
    used = {k: v for k, v in asdict(filters).items() if v is not None}
    audit.record(
        session,
        principal,
        f"registry.export_{entity}",
        "person" if entity == "people" else "house",
        None,
        details={"format": fmt, "filters": used, "rows": export.rows},
    )
    return export
