from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from civicgrid.core.db import Database
from tests.support.api import auth_headers
from tests.support.city import CITY, TinyCity

V2 = "/open311/v2"
# Points inside the tiny city's grids (tests/support/city.py), and one outside it.
IN_A1 = (32.2, 117.1)  # (lat, long)
IN_A2 = (32.2, 117.3)
OUTSIDE = (30.0, 119.0)


@pytest.fixture
def o311_city(db: Database, tiny_city: TinyCity) -> TinyCity:
    from civicgrid.cases.categories import seed_categories
    from civicgrid.core.workcalendar import seed_calendar

    with db.unit_of_work() as session:
        seed_categories(session)
        seed_calendar(session)
    return tiny_city


@pytest.fixture
def make_key(client: TestClient, o311_city: TinyCity) -> Callable[..., str]:
    """An API key issued through the platform's own API (role resident, city-wide, unless told)."""
    headers = auth_headers(client, "admin")

    def make(role: str = "resident", scope: str = CITY, name: str = "街道通 app") -> str:
        response = client.post(
            "/api/v1/api-keys", json={"name": name, "role": role, "scope_division_code": scope}, headers=headers
        )
        assert response.status_code == 201, response.text
        key: str = response.json()["key"]
        return key

    return make


@pytest.fixture
def api_key(make_key: Callable[..., str]) -> str:
    return make_key()


def post_request(
    client: TestClient,
    key: str | None,
    *,
    code: str = "0304",
    at: tuple[float, float] | None = IN_A1,
    fmt: str = "json",
    **fields: Any,
) -> Any:
    data: dict[str, Any] = {"service_code": code, "description": "路口信号灯不亮，车辆抢行", **fields}
    if key is not None:
        data["api_key"] = key
    if at is not None:
        data["lat"], data["long"] = at
    return client.post(f"{V2}/requests.{fmt}", data=data)


def created(client: TestClient, key: str, **kwargs: Any) -> dict[str, Any]:
    response = post_request(client, key, **kwargs)
    assert response.status_code in (200, 201), response.text
    body = response.json()
    assert isinstance(body, list) and len(body) == 1, body
    item: dict[str, Any] = body[0]
    return item


def assert_spec_error(response: Any, status: int, words: str | None = None, fmt: str = "json") -> str:
    """The spec's error body: [{code, description}] (XML <errors><error>…)."""
    assert response.status_code == status, response.text
    if fmt == "xml":
        root = ET.fromstring(response.content)
        assert root.tag == "errors", response.text
        errors = [{child.tag: child.text for child in error} for error in root]
        assert [e.tag for e in root] == ["error"]
    else:
        errors = response.json()
    assert isinstance(errors, list) and len(errors) == 1, errors
    assert set(errors[0]) == {"code", "description"}, errors
    assert str(errors[0]["code"]) == str(status)
    description: str = errors[0]["description"]
    assert description
    if words is not None:
        assert words in description, description
    return description


def case_count(db: Database) -> int:
    from civicgrid.cases.models import Case

    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(Case)) or 0
