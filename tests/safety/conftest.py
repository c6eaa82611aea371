"""Fixtures of the safety tests. Several parts of the module add theirs here: keep each part's section."""

from __future__ import annotations

import pytest

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
