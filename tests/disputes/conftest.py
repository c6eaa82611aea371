"""Fixtures of the dispute tests: the tiny city with case and dispute categories, code tables, the work
calendar and a justice department with one account; `dispute_api(username)` calls as one user."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from civicgrid.auth.models import User
from civicgrid.core.db import Database
from civicgrid.core.idnumber import Sex, make_id_number
from civicgrid.org.models import OrgUnit
from civicgrid.registry.people import today
from tests.cases.conftest import IN_A1
from tests.support.api import auth_headers
from tests.support.city import _HASH, CITY, TinyCity

ID_MALE = make_id_number("340302", date(1970, 5, 1), 123, Sex.male)
ID_FEMALE = make_id_number("340302", date(1982, 11, 9), 246, Sex.female)


@pytest.fixture
def disputes_city(db: Database, tiny_city: TinyCity) -> TinyCity:
    from civicgrid.seeds import load_reference_data

    with db.unit_of_work() as session:
        load_reference_data(session)
        justice = OrgUnit(
            code="dept-justice", name="蚌埠市司法局", kind="department", department_type="justice",
            division_code=CITY, city_code=CITY,
        )  # fmt: skip
        session.add(justice)
        session.flush()
        tiny_city.units["dept-justice"] = justice.id
        user = User(
            username="justice", display_name="Justice", password_hash=_HASH, role="department_staff",
            scope_division_code=CITY, unit_id=justice.id, scope_department_id=justice.id,
        )  # fmt: skip
        session.add(user)
        session.flush()
        tiny_city.users["justice"] = user.id
    return tiny_city


class DisputeApi:
    """Calls as one user, asserting the status."""

    def __init__(self, client: TestClient, username: str) -> None:
        self.client = client
        self.username = username
        self.headers = auth_headers(client, username)

    def log_in_again(self) -> None:
        """After moving the clock past the access token's lifetime."""
        self.headers = auth_headers(self.client, self.username)

    def call(self, method: str, path: str, status: int, body: Any = None, **params: Any) -> Any:
        response = self.client.request(method, f"/api/v1{path}", json=body, params=params, headers=self.headers)
        assert response.status_code == status, response.text
        return response.json()

    def get(self, path: str, status: int = 200, **params: Any) -> Any:
        return self.call("GET", path, status, **params)

    def post(self, path: str, body: dict[str, Any], status: int = 200) -> Any:
        return self.call("POST", path, status, body)

    def patch(self, path: str, body: dict[str, Any], status: int = 200) -> Any:
        return self.call("PATCH", path, status, body)

    def create(self, status: int = 201, point: tuple[float, float] | None = IN_A1, **extra: Any) -> Any:
        return self.post("/disputes", dispute_body(point, **extra), status=status)


def dispute_body(point: tuple[float, float] | None = IN_A1, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "dispute_category": "04",
        "summary": "楼上漏水殃及楼下，双方就维修费用发生争执",
        "people_count": 2,
        "resolution_deadline": (today() + timedelta(days=15)).isoformat(),
        "parties": [
            {"role": "applicant", "name": "张三明", "id_number": ID_MALE, "sex": "1", "ethnicity": "01"},
            {"role": "respondent", "name": "李四红", "sex": "2", "education": "60", "person_category": "registered"},
        ],
        "force_new": True,
    }
    if point is not None:
        body["lon"], body["lat"] = point
    body.update(extra)
    return body


@pytest.fixture
def dispute_api(client: TestClient, disputes_city: TinyCity) -> Callable[[str], DisputeApi]:
    made: dict[str, DisputeApi] = {}

    def get(username: str) -> DisputeApi:
        if username not in made:
            made[username] = DisputeApi(client, username)
        return made[username]

    return get
