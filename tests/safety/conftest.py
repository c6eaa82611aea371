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
