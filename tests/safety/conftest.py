"""Fixtures of the safety tests. Several parts of the module add theirs here: keep each part's section."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.authz.scope import Principal
from civicgrid.core.db import Database
from tests.support.city import TinyCity

# -- the index ---------------------------------------------------------------------------------------------


@pytest.fixture
def index_city(db: Database, tiny_city: TinyCity) -> TinyCity:
    """The tiny city with the incident categories and the default index configuration (active)."""
    from civicgrid.safety.categories import seed_safety_categories
    from civicgrid.safety.index_service import seed_index_config

    with db.unit_of_work() as session:
        seed_safety_categories(session)
        seed_index_config(session)
    return tiny_city


# -- the feeds ---------------------------------------------------------------------------------------------

# Points of the tiny city (tests/support/city.py): grids tile district 340303 (lon 117.0–117.5); the other
# district (117.5–118.0) has no grids.
FEED_IN_A1 = (117.1, 32.2)
FEED_IN_A2 = (117.3, 32.2)
FEED_IN_B1 = (117.1, 32.7)
FEED_IN_B2 = (117.3, 32.7)
FEED_NO_GRID = (117.7, 32.5)  # inside the city, in no grid
FEED_OUTSIDE = (119.0, 30.0)


@pytest.fixture
def feeds_city(db: Database, tiny_city: TinyCity) -> TinyCity:
    """The tiny city with the incident categories."""
    from civicgrid.safety.categories import seed_safety_categories

    with db.unit_of_work() as session:
        seed_safety_categories(session)
    return tiny_city


@pytest.fixture
def add_incidents(db: Database, feeds_city: TinyCity) -> Callable[..., list[str]]:
    """Store incidents through the feed service (placed, counted): `add_incidents(items, source="110")`
    with items as pushed to the API ({record_id, occurred_at, category, lon, lat, …}); their record ids."""
    from civicgrid.authz.permissions import ROLE_PERMISSIONS, Role
    from civicgrid.authz.scope import Level, Principal, Scope
    from civicgrid.safety import feed_mappings, incidents
    from tests.support.city import CITY

    principal = Principal(
        None, "tests", Role.center_operator.value, ROLE_PERMISSIONS[Role.center_operator], Scope(CITY, Level.city)
    )

    def add(items: list[dict[str, Any]], source: str = "110") -> list[str]:
        with db.unit_of_work() as session:
            table = feed_mappings.category_table(session, {}, "report", None)
            stored = incidents.receive(session, principal, source, items, table, limit=len(items))
        return [r.record_id for r in stored.created]

    return add


def index_principal(session: Session, username: str) -> Principal:
    """The principal of a tiny-city account, for service-level calls."""
    from civicgrid.auth.models import User
    from civicgrid.auth.service import load_principal

    user_id = session.scalar(select(User.id).where(User.username == username))
    assert user_id is not None
    principal = load_principal(session, user_id)
    assert principal is not None
    return principal


# -- the warnings ------------------------------------------------------------------------------------------


@pytest.fixture
def warnings_city(db: Database, tiny_city: TinyCity) -> TinyCity:
    """The tiny city with incident and case categories and the work calendar (cases need deadlines)."""
    from civicgrid.cases.categories import seed_categories
    from civicgrid.core.workcalendar import seed_calendar
    from civicgrid.safety.categories import seed_safety_categories

    with db.unit_of_work() as session:
        seed_safety_categories(session)
        seed_categories(session)
        seed_calendar(session)
    return tiny_city


def store_incidents(session: Session, rows: list[tuple[str, Any, float, float]], *, deaths: int = 0) -> None:
    """Store and count incidents given as (category, day, lon, lat), placed in their grid, at local noon."""
    import uuid
    from datetime import datetime, time

    from civicgrid.geo.lookup import lookup_point
    from civicgrid.safety.counts import LOCAL_TZ, count_incidents
    from civicgrid.safety.models import SafetyIncident

    placed: dict[tuple[float, float], Any] = {}
    stored = []
    for category, day, lon, lat in rows:
        if (lon, lat) not in placed:
            placed[(lon, lat)] = lookup_point(session, lon, lat)
        place = placed[(lon, lat)]
        areas = {level.value: code for level, (code, _name) in place.ancestors.items()}
        stored.append(
            SafetyIncident(
                source="110",
                record_id=f"w-{uuid.uuid4().hex}",
                occurred_at=datetime.combine(day, time(12), LOCAL_TZ),
                day=day,
                category_code=category,
                division_code=place.grid_code,
                lon=lon,
                lat=lat,
                deaths=deaths,
                district_code=areas.get("district"),
                street_code=areas.get("street"),
                community_code=areas.get("community"),
                grid_code=place.grid_code,
            )
        )
    session.add_all(stored)
    session.flush()
    count_incidents(session, stored)
