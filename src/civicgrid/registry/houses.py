"""Houses (房屋) and tenancies of rented houses (出租房屋)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import shapely
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from civicgrid.audit import service as audit
from civicgrid.authz.policy import area_codes_of, get_in_scope, require, require_area, restrict
from civicgrid.authz.scope import Principal
from civicgrid.core.crypto import Keyring
from civicgrid.core.db import AnySelect
from civicgrid.core.errors import Conflict, InvalidInput
from civicgrid.core.idnumber import InvalidIdNumber, parse_id_number
from civicgrid.geo.area import area_values
from civicgrid.geo.models import Division
from civicgrid.registry import codes
from civicgrid.registry.models import House, Person, Tenancy
from civicgrid.registry.people import _escape_like, today

OWNER_ID_CONTEXT = "house.owner_id_number"


def compose_address(
    community_name: str, street_address: str, building: str | None, unit: str | None, room: str | None
) -> str:
    parts = [community_name, street_address, building or "", unit or "", room or ""]
    return " ".join(p for p in parts if p)


def _grid(session: Session, principal: Principal, grid_code: str) -> Division:
    grid = session.get(Division, grid_code)
    if grid is None or grid.level != "grid":
        raise InvalidInput(f"{grid_code} is not a grid", details=[{"field": "grid_code", "problem": "not a grid"}])
    require_area(principal, "house:write", area_codes_of(grid))
    return grid


@dataclass
class HouseCheck:
    """What `validate_house` found: the plain columns, the owner's normalised ID number, every problem."""

    columns: dict[str, Any]
    owner_id_number: str | None
    problems: list[dict[str, str]]


def grid_contains(grid: Division) -> Callable[[float, float], bool] | None:
    """A test of whether a point lies in the grid (within a hair of its boundary); None without geometry."""
    if grid.geometry is None:
        return None
    from civicgrid.geo.geometry import from_wkb

    shape = from_wkb(grid.geometry).buffer(1e-6)
    shapely.prepare(shape)
    return lambda lon, lat: bool(shape.contains(shapely.Point(lon, lat)))


def validate_house(
    session: Session,
    data: dict[str, Any],
    grid: Division | None,
    *,
    contains: Callable[[float, float], bool] | None = None,
    on: date | None = None,
) -> HouseCheck:
    """The rules of `_check` without keys (imports call it per row with a prepared `contains` per grid)."""
    found = codes.problems(session, {"use": ("house_use", data.get("use"))})
    columns = {k: v for k, v in data.items() if k not in ("owner_id_number", "grid_code")}
    owner: str | None = None
    owner_id = data.get("owner_id_number")
    if owner_id:
        try:
            owner = parse_id_number(owner_id, today=on or today()).number
        except InvalidIdNumber as exc:
            found.append({"field": "owner_id_number", "problem": exc.message})
    lon, lat = data.get("lon"), data.get("lat")
    if (lon is None) != (lat is None):
        found.append({"field": "lon", "problem": "give both lon and lat, or neither"})
    elif lon is not None and lat is not None and grid is not None:
        inside = contains or grid_contains(grid)
        if inside is not None and not inside(lon, lat):
            found.append({"field": "lon", "problem": f"the point lies outside grid {grid.code}"})
    return HouseCheck(columns, owner, found)


def _check(session: Session, keyring: Keyring, data: dict[str, Any], grid: Division | None) -> dict[str, Any]:
    checked = validate_house(session, data, grid)
    found, columns = checked.problems, checked.columns
    if checked.owner_id_number is not None:
        columns["owner_id_number_enc"] = keyring.encrypt(checked.owner_id_number, context=OWNER_ID_CONTEXT)
        columns["owner_id_number_index"] = keyring.blind_index(checked.owner_id_number, context=OWNER_ID_CONTEXT)
    if found:
        raise InvalidInput("; ".join(f"{p['field']}: {p['problem']}" for p in found), details=found)
    return columns


def create_house(session: Session, principal: Principal, keyring: Keyring, data: dict[str, Any]) -> House:
    require(principal, "house:write")
    grid = _grid(session, principal, data["grid_code"])
    columns = _check(session, keyring, data, grid)
    community = session.get(Division, grid.community_code)
    assert community is not None
    house = House(
        **columns,
        **area_values(grid),
        address=compose_address(
            community.name, data["street_address"], data.get("building"), data.get("unit"), data.get("room")
        ),
    )
    session.add(house)
    session.flush()
    audit.record(session, principal, "house.create", "house", house.id, details={"grid": grid.code})
    return house


def get_house(session: Session, principal: Principal, house_id: int, permission: str = "house:read") -> House:
    return get_in_scope(session, House, house_id, principal, permission)


def update_house(
    session: Session, principal: Principal, keyring: Keyring, house_id: int, changes: dict[str, Any]
) -> House:
    house = get_house(session, principal, house_id, "house:write")
    columns = _check(session, keyring, {k: v for k, v in changes.items() if v is not None}, None)
    changed = sorted(k for k, v in columns.items() if getattr(house, k) != v)
    for key in changed:
        setattr(house, key, columns[key])
    if {"street_address", "building", "unit", "room"} & set(changed):
        community = session.get(Division, house.community_code)
        assert community is not None
        house.address = compose_address(community.name, house.street_address, house.building, house.unit, house.room)
    if house.use != "rented" and session.scalar(
        select(func.count()).select_from(Tenancy).where(Tenancy.house_id == house.id, Tenancy.move_out.is_(None))
    ):
        raise Conflict("the house still has tenants; record their move-out before changing its use")
    session.flush()
    audit.record(session, principal, "house.update", "house", house.id, details={"fields": changed})
    return house


@dataclass(frozen=True)
class HouseFilter:
    address: str | None = None
    use: str | None = None
    grid_code: str | None = None
    community_code: str | None = None


def query_houses(principal: Principal, filters: HouseFilter) -> AnySelect:
    query: Select[Any] = restrict(select(House), principal, "house:read", House)
    if filters.address:
        query = query.where(House.address.like(f"%{_escape_like(filters.address)}%", escape="\\"))
    for column, value in (
        (House.use, filters.use),
        (House.grid_code, filters.grid_code),
        (House.community_code, filters.community_code),
    ):
        if value is not None:
            query = query.where(column == value)
    return query


def residents_count(session: Session, house_ids: list[int]) -> dict[int, int]:
    if not house_ids:
        return {}
    rows = session.execute(
        select(Person.house_id, func.count())
        .where(Person.house_id.in_(house_ids), Person.status == "active")
        .group_by(Person.house_id)
    )
    return {house_id: n for house_id, n in rows if house_id is not None}


def tenancies(session: Session, principal: Principal, house_id: int) -> list[tuple[Tenancy, str]]:
    house = get_house(session, principal, house_id)
    rows = session.execute(
        select(Tenancy, Person.name)
        .join(Person, Person.id == Tenancy.person_id)
        .where(Tenancy.house_id == house.id)
        .order_by(Tenancy.move_in.desc(), Tenancy.id)
    )
    return [(t, name) for t, name in rows]


def add_tenant(session: Session, principal: Principal, house_id: int, person_id: int, move_in: date) -> Tenancy:
    house = get_house(session, principal, house_id, "house:write")
    if house.use != "rented":
        raise Conflict("only a rented house (use 出租 rented) has tenants; change its use first")
    person = session.get(Person, person_id)
    if person is None or person.status != "active":
        raise InvalidInput(
            f"there is no active person {person_id}", details=[{"field": "person_id", "problem": "not found"}]
        )
    require_area(principal, "person:read", area_codes_of(person))
    if move_in > today():
        raise InvalidInput("the move-in date is in the future", details=[{"field": "move_in", "problem": "future"}])
    if session.scalar(
        select(Tenancy.id).where(
            Tenancy.house_id == house.id, Tenancy.person_id == person_id, Tenancy.move_out.is_(None)
        )
    ):
        raise Conflict("this person is already a tenant of this house")
    tenancy = Tenancy(house_id=house.id, person_id=person_id, move_in=move_in)
    session.add(tenancy)
    session.flush()
    audit.record(session, principal, "house.tenant_in", "house", house.id, details={"tenancy": tenancy.id})
    return tenancy


def end_tenancy(session: Session, principal: Principal, house_id: int, tenancy_id: int, move_out: date) -> Tenancy:
    house = get_house(session, principal, house_id, "house:write")
    tenancy = session.get(Tenancy, tenancy_id)
    if tenancy is None or tenancy.house_id != house.id:
        raise InvalidInput(
            f"house {house_id} has no tenancy {tenancy_id}", details=[{"field": "tenancy_id", "problem": "not found"}]
        )
    if tenancy.move_out is not None:
        raise Conflict("this tenant has already moved out")
    if move_out < tenancy.move_in:
        raise InvalidInput(
            "the move-out is before the move-in", details=[{"field": "move_out", "problem": "too early"}]
        )
    tenancy.move_out = move_out
    audit.record(session, principal, "house.tenant_out", "house", house.id, details={"tenancy": tenancy.id})
    return tenancy


# The house layer of the map: single houses when zoomed in, counts per grid when zoomed out.
HOUSE_POINTS_MIN_ZOOM = 14
MAX_HOUSE_POINTS = 20_000


def map_features(
    session: Session, principal: Principal, bbox: tuple[float, float, float, float], zoom: int
) -> dict[str, Any]:
    """GeoJSON points in `bbox`: houses (zoom ≥ 14, at most 20,000) or per-grid house counts."""
    min_lon, min_lat, max_lon, max_lat = bbox
    if not (min_lon < max_lon and min_lat < max_lat):
        raise InvalidInput(
            "bbox is min_lon,min_lat,max_lon,max_lat with min < max",
            details=[{"field": "bbox", "problem": "empty or inverted"}],
        )
    features: list[dict[str, Any]] = []
    if zoom >= HOUSE_POINTS_MIN_ZOOM:
        query = restrict(
            select(House.id, House.lon, House.lat, House.use, House.address).where(
                House.lon.between(min_lon, max_lon), House.lat.between(min_lat, max_lat)
            ),
            principal,
            "house:read",
            House,
        ).limit(MAX_HOUSE_POINTS + 1)
        rows = session.execute(query).all()
        truncated = len(rows) > MAX_HOUSE_POINTS
        for house_id, lon, lat, use, address in rows[:MAX_HOUSE_POINTS]:
            features.append(
                {
                    "type": "Feature",
                    "id": house_id,
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": {"kind": "house", "id": house_id, "use": use, "address": address},
                }
            )
        return {"type": "FeatureCollection", "features": features, "truncated": truncated}
    query = restrict(
        select(
            House.grid_code,
            func.count(),
            func.sum(case((House.use == "rented", 1), else_=0)),
            Division.centroid_lon,
            Division.centroid_lat,
        )
        .join(Division, Division.code == House.grid_code)
        .where(Division.centroid_lon.between(min_lon, max_lon), Division.centroid_lat.between(min_lat, max_lat))
        .group_by(House.grid_code, Division.centroid_lon, Division.centroid_lat),
        principal,
        "house:read",
        House,
    )
    for grid_code, houses_in_grid, rented, lon, lat in session.execute(query):
        features.append(
            {
                "type": "Feature",
                "id": grid_code,
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {
                    "kind": "grid",
                    "grid_code": grid_code,
                    "houses": houses_in_grid,
                    "rented": int(rented or 0),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features, "truncated": False}
