from __future__ import annotations

from collections.abc import Callable

import pytest

from civicgrid.auth.service import load_principal
from civicgrid.authz.scope import Principal
from civicgrid.core import broadcast
from civicgrid.core.broadcast import Event
from civicgrid.core.db import Database
from tests.cases.conftest import as_user, cases_city  # noqa: F401  (fixtures shared with the case tests)
from tests.command.reports_fixtures import (  # noqa: F401  (the analysis reports' fixtures)
    principal_of,
    report_city,
    report_client,
    report_settings,
    report_store,
)
from tests.support.city import TinyCity

# Points of the tiny city (tests/support/city.py).
IN_A1 = (117.1, 32.2)
IN_A2 = (117.3, 32.2)
IN_B1 = (117.1, 32.7)
IN_OTHER_DISTRICT = (117.7, 32.5)  # inside the city, in a district without grids
OUTSIDE = (119.0, 30.0)


@pytest.fixture
def principal(db: Database, tiny_city: TinyCity) -> Callable[[str], Principal]:
    def get(username: str) -> Principal:
        with db.unit_of_work(write=False) as session:
            found = load_principal(session, tiny_city.users[username])
        assert found is not None
        return found

    return get


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[Event]:
    """The live events published after commit (instead of sending them)."""
    events: list[Event] = []
    monkeypatch.setattr(broadcast, "publish_now", lambda event, engine=None: events.append(event))
    return events
