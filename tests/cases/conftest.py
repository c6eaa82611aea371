from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from civicgrid.core.db import Database
from tests.support.api import auth_headers
from tests.support.city import TinyCity

# Points inside the tiny city's grids (see tests/support/city.py).
IN_A1 = (117.1, 32.2)
IN_A2 = (117.3, 32.2)
IN_B2 = (117.3, 32.7)  # a grid with no grid worker
OUTSIDE = (119.0, 30.0)


@pytest.fixture
def cases_city(db: Database, tiny_city: TinyCity) -> TinyCity:
    from civicgrid.cases.categories import seed_categories
    from civicgrid.core.workcalendar import seed_calendar

    with db.unit_of_work() as session:
        seed_categories(session)
        seed_calendar(session)
    return tiny_city


class Api:
    """Calls as one user, asserting the status."""

    def __init__(self, client: TestClient, username: str) -> None:
        self.client = client
        self.headers = auth_headers(client, username)

    def post(self, path: str, body: dict[str, Any], status: int = 200) -> Any:
        response = self.client.post(f"/api/v1{path}", json=body, headers=self.headers)
        assert response.status_code == status, response.text
        return response.json()

    def get(self, path: str, status: int = 200, **params: Any) -> Any:
        response = self.client.get(f"/api/v1{path}", params=params, headers=self.headers)
        assert response.status_code == status, response.text
        return response.json()

    def report(self, point: tuple[float, float] = IN_A1, category: str = "0501", **extra: Any) -> dict[str, Any]:
        body = {"category_code": category, "lon": point[0], "lat": point[1], "description": "井盖破损", **extra}
        result: dict[str, Any] = self.post("/cases", body, status=201)
        return result

    def act(self, case_id: int, action: str, status: int = 200, **extra: Any) -> Any:
        return self.post(f"/cases/{case_id}/actions", {"action": action, **extra}, status=status)


@pytest.fixture
def as_user(client: TestClient, cases_city: TinyCity) -> Any:
    made: dict[str, Api] = {}

    def get(username: str) -> Api:
        if username not in made:
            made[username] = Api(client, username)
        return made[username]

    return get
