"""Importing houses: a batch's rows checked, matched by grid and address, and written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from civicgrid.core.clock import utcnow
from civicgrid.registry import houses
from civicgrid.registry.imports.rows import AREA_COLUMNS, BaseImporter, Counts, Row, _table
from civicgrid.registry.models import House, Tenancy


@dataclass
class _HouseTarget:
    house_id: int | None
    current: dict[str, Any]
    insert: dict[str, Any] | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    owner_id: str | None = None


HOUSE_PLAIN = ("street_address", "building", "unit", "room", "use", "owner_name", "area_m2", "lon", "lat")


class HouseImporter(BaseImporter):
    entity = "houses"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.insert_template: dict[str, Any] = {
            **{name: None for name in HOUSE_PLAIN},
            **{c: None for c in AREA_COLUMNS},
            "address": None,
            "owner_id_number_enc": None,
            "owner_id_number_index": None,
        }

    def process(self, session: Session, batch: list[tuple[int, list[Any]]], *, write: bool) -> tuple[Counts, list[Row]]:
        counts = Counts(rows=len(batch))
        rows = self.rows_of(batch)
        geometry = "lon" in self.columns
        grids = self.grids(session, {r.values["grid_code"] for r in rows if "grid_code" in r.values}, geometry=geometry)
        keys: dict[int, tuple[str, str]] = {}
        checks: dict[int, houses.HouseCheck] = {}
        for i, row in enumerate(rows):
            grid = grids.get(row.values.get("grid_code", ""))
            if "grid_code" in row.values and (grid is None or not self.in_scope(grid.area)):
                row.problems.append(("grid_code", f"{row.values['grid_code']} is not a grid in your scope"))
                grid = None
            values = {k: v for k, v in row.values.items() if k != "grid_code"}
            check = houses.validate_house(
                session, values, grid.division if grid else None, contains=grid.contains if grid else None, on=self.on
            )
            row.add_checked(check.problems)
            if row.ok and grid is not None:
                v = row.values
                address = houses.compose_address(
                    grid.community_name, v["street_address"], v.get("building"), v.get("unit"), v.get("room")
                )
                if len(address) > 250:
                    row.problems.append(("street_address", "the full address is longer than 250 characters"))
                    continue
                keys[i] = (grid.area["grid_code"], address)
                checks[i] = check
        owner_rows = [i for i in keys if checks[i].owner_id_number]
        owner_indexes = dict(
            zip(
                owner_rows,
                self.keyring.blind_index_many(
                    [checks[i].owner_id_number or "" for i in owner_rows], context=houses.OWNER_ID_CONTEXT
                ),
                strict=True,
            )
        )
        existing: dict[tuple[str, str], dict[str, Any]] = {}
        if keys:
            columns = [House.id, House.address, House.owner_id_number_index, *(getattr(House, c) for c in HOUSE_PLAIN)]
            columns += [getattr(House, c) for c in AREA_COLUMNS]
            addresses = {k[1] for k in keys.values()}
            for record in session.execute(select(*columns).where(House.address.in_(addresses))):
                existing[(record.grid_code, record.address)] = dict(record._mapping)
        targets: dict[tuple[str, str], _HouseTarget] = {}
        inserts: list[_HouseTarget] = []
        outcomes: dict[int, str] = {}
        for i, key in keys.items():
            check = checks[i]
            target = targets.get(key)
            created_now = False
            if target is None:
                found = existing.get(key)
                if found is not None:
                    target = _HouseTarget(house_id=found["id"], current=found)
                else:
                    grid = grids[key[0]]
                    assert grid is not None
                    fresh: dict[str, Any] = {**self.insert_template, **grid.area, "address": key[1]}
                    target = _HouseTarget(house_id=None, current=fresh, insert=fresh)
                    inserts.append(target)
                    created_now = True
                targets[key] = target
            wanted = dict(check.columns)
            if i in owner_indexes:
                wanted["owner_id_number_index"] = owner_indexes[i]
            changed = False
            for column, value in wanted.items():
                if target.current.get(column) != value:
                    target.current[column] = value
                    if target.insert is None:
                        target.changes[column] = value
                    if column == "owner_id_number_index":
                        target.owner_id = check.owner_id_number
                    changed = True
            outcomes[i] = "created" if created_now else "updated" if changed else "unchanged"
        self._tenant_conflicts(session, rows, keys, targets)
        for i, outcome in outcomes.items():
            if rows[i].ok:
                setattr(counts, outcome, getattr(counts, outcome) + 1)
        counts.failed = sum(1 for row in rows if not row.ok)
        if write:
            self._write(session, inserts, [t for t in targets.values() if t.insert is None and t.changes])
        return counts, rows

    def _tenant_conflicts(
        self,
        session: Session,
        rows: list[Row],
        keys: dict[int, tuple[str, str]],
        targets: dict[tuple[str, str], _HouseTarget],
    ) -> None:
        """A house with current tenants keeps its use 'rented' (as in the API)."""
        leaving = {
            t.house_id: key
            for key, t in targets.items()
            if t.house_id is not None and t.changes.get("use") not in (None, "rented")
        }
        if not leaving:
            return
        rented = set(
            session.scalars(
                select(Tenancy.house_id)
                .where(Tenancy.house_id.in_(list(leaving)), Tenancy.move_out.is_(None))
                .group_by(Tenancy.house_id)
            )
        )
        for house_id in rented:
            key = leaving[house_id]
            targets[key].changes.clear()
            for i, row_key in keys.items():
                if row_key == key:
                    rows[i].problems.append(
                        ("use", "the house still has tenants; record their move-out before changing its use")
                    )

    def _write(self, session: Session, inserts: list[_HouseTarget], updates: list[_HouseTarget]) -> None:
        holders = [t for t in (*inserts, *updates) if t.owner_id]
        tokens = self.keyring.encrypt_many([t.owner_id or "" for t in holders], context=houses.OWNER_ID_CONTEXT)
        for target, token in zip(holders, tokens, strict=True):
            (target.insert if target.insert is not None else target.changes)["owner_id_number_enc"] = token
        now = utcnow()
        if inserts:
            session.execute(
                insert(_table(House)), [{**t.current, "created_at": now, "updated_at": now} for t in inserts]
            )
        if updates:
            session.execute(update(House), [{"id": t.house_id, **t.changes, "updated_at": now} for t in updates])
