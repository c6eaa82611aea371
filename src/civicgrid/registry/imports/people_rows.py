"""Importing people: a batch's rows checked, placed in houses or grids, matched and written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from civicgrid.core.clock import utcnow
from civicgrid.registry import people
from civicgrid.registry.imports.rows import AREA_COLUMNS, BaseImporter, Counts, Row, _table
from civicgrid.registry.models import House, Person, Residence


@dataclass
class _PersonTarget:
    """A person a row writes to: an existing one (id set) or one this import creates (insert set)."""

    person_id: int | None
    current: dict[str, Any]
    insert: dict[str, Any] | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    plain: dict[str, str] = field(default_factory=dict)  # identifiers to encrypt: field → normalised value
    moved: bool = False


PERSON_KEY_COLUMNS = (
    "id",
    "status",
    "house_id",
    "id_number_index",
    "phone_index",
    "document_no_index",
    *AREA_COLUMNS,
)
_LOCATION_FIELDS = ("house_id", "grid_code", "house_address")


def _key_of(row: dict[str, Any]) -> str:
    if row["id_number_index"] is not None:
        return f"id:{row['id_number_index']}"
    return f"doc:{row['document_no_index']}"


class PeopleImporter(BaseImporter):
    entity = "people"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.review_status = people._review_status(self.principal)
        plain_fields = [f for f in self.columns if f not in (*_LOCATION_FIELDS, "id_number", "phone", "document_no")]
        self.update_columns = tuple(plain_fields)
        # Every insert carries the same keys, so the database gets one multi-row statement per batch.
        self.insert_template: dict[str, Any] = {
            **{name: None for name in plain_fields},
            "key_attention": False,
            "status": "active",
            "review_status": self.review_status,
            "created_by": self.principal.user_id,
            "house_id": None,
            **{c: None for c in AREA_COLUMNS},
            "id_number_enc": None,
            "id_number_index": None,
            "phone_enc": None,
            "phone_index": None,
            "document_no_enc": None,
            "document_no_index": None,
        }

    def process(self, session: Session, batch: list[tuple[int, list[Any]]], *, write: bool) -> tuple[Counts, list[Row]]:
        counts = Counts(rows=len(batch))
        rows = self.rows_of(batch)
        checks: dict[int, people.PersonCheck] = {}
        for i, row in enumerate(rows):
            values = {k: v for k, v in row.values.items() if k not in _LOCATION_FIELDS}
            check = people.validate_person(session, values, on=self.on)
            row.add_checked(check.problems)
            unplaced = "house_id" not in row.values and "grid_code" not in row.values
            if unplaced and not any(p[0] in _LOCATION_FIELDS for p in row.problems):
                row.problems.append(
                    ("grid_code", "give the house (house_id, or grid_code and house_address) or the grid")
                )
            if "house_address" in row.values and "grid_code" not in row.values:
                row.problems.append(("house_address", "a house address needs the grid_code of its grid"))
            checks[i] = check
        places = self._places(session, rows)

        # Blind indexes of the batch, then one query for the people the registry already has.
        ok = [i for i, row in enumerate(rows) if row.ok]
        id_rows = [i for i in ok if checks[i].id_number]
        id_indexes = dict(
            zip(
                id_rows,
                self.keyring.blind_index_many([checks[i].id_number or "" for i in id_rows], context=people.ID_CONTEXT),
                strict=True,
            )
        )
        doc_rows = [i for i in ok if not checks[i].id_number and checks[i].document_no]
        doc_indexes = dict(
            zip(
                doc_rows,
                self.keyring.blind_index_many(
                    [checks[i].document_no or "" for i in doc_rows], context=people.DOCUMENT_CONTEXT
                ),
                strict=True,
            )
        )
        phone_rows = [i for i in ok if checks[i].phone]
        phone_indexes = dict(
            zip(
                phone_rows,
                self.keyring.blind_index_many(
                    [checks[i].phone or "" for i in phone_rows], context=people.PHONE_CONTEXT
                ),
                strict=True,
            )
        )
        existing = self._existing(session, set(id_indexes.values()), set(doc_indexes.values()))

        targets: dict[str, _PersonTarget] = {}
        inserts: list[_PersonTarget] = []
        for i in ok:
            row, check = rows[i], checks[i]
            if i not in id_indexes and i not in doc_indexes:
                row.problems.append(("document_no", "a person needs an ID number or a document number"))
                continue
            key = f"id:{id_indexes[i]}" if i in id_indexes else f"doc:{doc_indexes[i]}"
            house_id, area = places[i]
            target = targets.get(key)
            if target is None:
                found = existing.get(key)
                if found == "ambiguous":
                    row.problems.append(
                        ("document_no", "several people have this document number; correct them in the app")
                    )
                    continue
                if isinstance(found, dict):
                    if not self.in_scope(found):
                        row.problems.append(
                            (
                                "id_number" if i in id_indexes else "document_no",
                                "this person is registered outside your scope; the import does not move people "
                                "between areas — ask the responsible community",
                            )
                        )
                        continue
                    if found["status"] != "active":
                        row.problems.append(
                            (
                                "id_number",
                                f"this person is deregistered ({found['status']}); re-register them in the app",
                            )
                        )
                        continue
                    target = _PersonTarget(person_id=found["id"], current=found)
                else:
                    insert = dict(self.insert_template)
                    target = _PersonTarget(person_id=None, current=insert, insert=insert)
                    inserts.append(target)
                    if i in id_indexes:
                        insert["id_number_index"] = id_indexes[i]
                        target.plain["id_number"] = check.id_number or ""
                    if i in doc_indexes:
                        insert["document_no_index"] = doc_indexes[i]
                targets[key] = target
                created_now = target.insert is not None
            else:
                created_now = False
            changed = self._apply(target, check, phone_indexes.get(i), house_id, area)
            if created_now:
                counts.created += 1
            elif changed:
                counts.updated += 1
            else:
                counts.unchanged += 1
        counts.failed = sum(1 for row in rows if not row.ok)
        if write:
            self._write(session, inserts, [t for t in targets.values() if t.insert is None and t.changes])
        return counts, rows

    def _apply(
        self,
        target: _PersonTarget,
        check: people.PersonCheck,
        phone_index: str | None,
        house_id: int | None,
        area: dict[str, str],
    ) -> bool:
        """Put a row's values on its target; whether anything changed."""
        wanted: dict[str, Any] = dict(check.columns)
        if phone_index is not None and check.phone:
            wanted["phone_index"] = phone_index
        if check.document_no:
            wanted["document_no_index"] = self.keyring.blind_index(check.document_no, context=people.DOCUMENT_CONTEXT)
        location = {"house_id": house_id, **area}
        if target.insert is None and (
            target.current.get("grid_code") != area["grid_code"] or target.current.get("house_id") != house_id
        ):
            target.moved = True
        wanted.update(location)
        changed = False
        for column, value in wanted.items():
            if target.current.get(column) != value:
                target.current[column] = value
                if target.insert is None:
                    target.changes[column] = value
                changed = True
                if column == "phone_index":
                    target.plain["phone"] = check.phone or ""
                if column == "document_no_index":
                    target.plain["document_no"] = check.document_no or ""
        return changed

    def _places(self, session: Session, rows: list[Row]) -> dict[int, tuple[int | None, dict[str, str]]]:
        """Each valid row's house (if any) and area, all inside the caller's scope; problems noted."""
        wanted_ids = {r.values["house_id"] for r in rows if r.ok and "house_id" in r.values}
        by_id: dict[int, dict[str, Any]] = {}
        if wanted_ids:
            for record in session.execute(
                select(House.id, *(getattr(House, c) for c in AREA_COLUMNS)).where(House.id.in_(wanted_ids))
            ):
                by_id[record.id] = dict(record._mapping)
        address_rows = [r for r in rows if r.ok and "house_address" in r.values and "house_id" not in r.values]
        by_address: dict[tuple[str, str], dict[str, Any]] = {}
        if address_rows:
            addresses = {r.values["house_address"] for r in address_rows}
            for record in session.execute(
                select(House.id, House.address, *(getattr(House, c) for c in AREA_COLUMNS)).where(
                    House.address.in_(addresses)
                )
            ):
                by_address[(record.grid_code, record.address)] = dict(record._mapping)
        grids = self.grids(session, {r.values["grid_code"] for r in rows if r.ok and "grid_code" in r.values})
        places: dict[int, tuple[int | None, dict[str, str]]] = {}
        for i, row in enumerate(rows):
            if not row.ok:
                continue
            values = row.values
            house: dict[str, Any] | None = None
            if "house_id" in values:
                house = by_id.get(values["house_id"])
                if house is None or not self.in_scope(house):
                    row.problems.append(("house_id", f"there is no house {values['house_id']} in your scope"))
                    continue
                if "grid_code" in values and values["grid_code"] != house["grid_code"]:
                    row.problems.append(("grid_code", f"house {house['id']} lies in grid {house['grid_code']}"))
                    continue
                places[i] = (house["id"], {c: house[c] for c in AREA_COLUMNS})
                continue
            grid = grids.get(values["grid_code"])
            if grid is None or not self.in_scope(grid.area):
                row.problems.append(("grid_code", f"{values['grid_code']} is not a grid in your scope"))
                continue
            if "house_address" in values:
                house = by_address.get((grid.area["grid_code"], values["house_address"]))
                if house is None:
                    row.problems.append(
                        (
                            "house_address",
                            f"grid {grid.area['grid_code']} has no house with this address; import the houses first",
                        )
                    )
                    continue
                places[i] = (house["id"], dict(grid.area))
                continue
            places[i] = (None, dict(grid.area))
        return places

    def _existing(self, session: Session, id_indexes: set[str], doc_indexes: set[str]) -> dict[str, Any]:
        """key → the person's current columns (or "ambiguous" for a document number several people share)."""
        found: dict[str, Any] = {}
        columns = [getattr(Person, c) for c in (*PERSON_KEY_COLUMNS, *self.update_columns) if c != "document_no_index"]
        columns.append(Person.document_no_index)
        if id_indexes:
            for row in session.execute(select(*columns).where(Person.id_number_index.in_(id_indexes))):
                found[f"id:{row.id_number_index}"] = dict(row._mapping)
        if doc_indexes:
            for row in session.execute(
                select(*columns).where(Person.document_no_index.in_(doc_indexes), Person.id_number_index.is_(None))
            ):
                key = f"doc:{row.document_no_index}"
                found[key] = "ambiguous" if key in found else dict(row._mapping)
        return found

    def _new_ids(self, session: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
        """The ids of people just inserted, by their key (one query per kind of key)."""
        ids: dict[str, int] = {}
        by_id = [r["id_number_index"] for r in rows if r["id_number_index"] is not None]
        if by_id:
            for person_id, index in session.execute(
                select(Person.id, Person.id_number_index).where(Person.id_number_index.in_(by_id))
            ):
                ids[f"id:{index}"] = person_id
        by_doc = [r["document_no_index"] for r in rows if r["id_number_index"] is None]
        if by_doc:
            for person_id, index in session.execute(
                select(Person.id, Person.document_no_index)
                .where(Person.document_no_index.in_(by_doc), Person.id_number_index.is_(None))
                .order_by(Person.id)
            ):
                ids[f"doc:{index}"] = person_id  # the newest wins: the one just inserted
        return ids

    def _write(self, session: Session, inserts: list[_PersonTarget], updates: list[_PersonTarget]) -> None:
        keyring = self.keyring
        for name, context in (
            ("id_number", people.ID_CONTEXT),
            ("phone", people.PHONE_CONTEXT),
            ("document_no", people.DOCUMENT_CONTEXT),
        ):
            holders = [t for t in (*inserts, *updates) if name in t.plain]
            tokens = keyring.encrypt_many([t.plain[name] for t in holders], context=context)
            for target, token in zip(holders, tokens, strict=True):
                (target.insert if target.insert is not None else target.changes)[f"{name}_enc"] = token
                target.plain.pop(name)
        now = utcnow()
        if inserts:
            rows = [{**t.current, "created_at": now, "updated_at": now} for t in inserts]
            # Plain executemany (no RETURNING: SQLite's variable limit would split it into tiny statements).
            session.execute(insert(_table(Person)), rows)
            housed = [row for row in rows if row["house_id"] is not None]
            if housed:
                ids = self._new_ids(session, housed)
                residences = [
                    {
                        "person_id": ids[_key_of(row)],
                        "house_id": row["house_id"],
                        "grid_code": row["grid_code"],
                        "from_date": self.on,
                        "reason": "imported",
                    }
                    for row in housed
                ]
                session.execute(insert(_table(Residence)), residences)
        if updates:
            session.execute(
                update(Person),
                [
                    {"id": t.person_id, **t.changes, "updated_at": now, "review_status": self.review_status}
                    for t in updates
                ],
            )
            moved = [t for t in updates if t.moved]
            if moved:
                session.execute(
                    update(Residence)
                    .where(Residence.person_id.in_([t.person_id for t in moved]), Residence.to_date.is_(None))
                    .values(to_date=self.on)
                )
                new = [
                    {
                        "person_id": t.person_id,
                        "house_id": t.current["house_id"],
                        "grid_code": t.current["grid_code"],
                        "from_date": self.on,
                        "reason": "imported",
                    }
                    for t in moved
                    if t.current["house_id"] is not None
                ]
                if new:
                    session.execute(insert(_table(Residence)), new)
