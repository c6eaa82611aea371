"""GET /api/v1/safety/hotspots and /hotspots/methods: the flagged units as GeoJSON, limited to the caller's
area, the refusals, and the last back-test's figures."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import shape

from civicgrid.core.db import Database
from civicgrid.safety import backtest_cli, forecast_service
from civicgrid.safety.backtest import BacktestSpec
from tests.safety.hotspot_sim import HOT_POINT, OTHER_HOT_POINT, load_hotspot_data
from tests.support.api import assert_error, auth_headers
from tests.support.city import DISTRICT, GRID_A1, GRID_A2, GRID_B1, GRID_B2, OTHER_DISTRICT, TinyCity

URL = "/api/v1/safety/hotspots"
NEXT_WEEK = {"start": "2025-06-02", "cell_size": 5000, "coverage": 0.05}


@pytest.fixture
def hotspot_data(db: Database, tiny_city: TinyCity) -> int:
    forecast_service.clear_cache()
    return load_hotspot_data(db)


def get(client: TestClient, username: str, status: int = 200, **params: Any) -> Any:
    response = client.get(URL, params=params, headers=auth_headers(client, username))
    assert response.status_code == status, response.text
    return response.json()


def contains(feature: dict[str, Any], point: tuple[float, float]) -> bool:
    return bool(shape(feature["geometry"]).contains(shapely.Point(*point)))


@pytest.mark.parametrize("method", ["counts", "kde", "self_exciting", "near_repeat"])
def test_the_hot_cells_come_first(client: TestClient, hotspot_data: int, method: str) -> None:
    body = get(client, "operator", method=method, **NEXT_WEEK)
    assert body["type"] == "FeatureCollection"
    features = body["features"]
    assert [f["properties"]["rank"] for f in features] == list(range(1, len(features) + 1))
    top_two = features[:2]
    assert any(contains(f, HOT_POINT) for f in top_two) and any(contains(f, OTHER_HOT_POINT) for f in top_two)
    first = features[0]["properties"]
    assert first["score"] >= features[-1]["properties"]["score"]
    assert first["expected"] > 0 and first["events"] > 50 and first["area_km2"] == pytest.approx(25)
    meta = body["meta"]
    assert meta["method"] == method and meta["unit"] == "cell" and meta["cell_size"] == 5000
    assert meta["period"] == {"type": "week", "start": "2025-06-02", "end": "2025-06-08"}
    training = meta["training"]
    assert (training["first_day"], training["last_day"]) == ("2024-06-02", "2025-06-01")  # 365 days
    assert 0.9 * hotspot_data < training["events"] < hotspot_data  # those in cells whose centres are in the city
    assert meta["selection"] == "crime_order" and meta["area_share"] <= 0.05
    assert meta["flagged"] == len(features) and len(features) == int(0.05 * meta["units_in_area"])


def test_a_district_user_sees_the_cells_of_the_district_only(client: TestClient, hotspot_data: int) -> None:
    everyone = get(client, "operator", **NEXT_WEEK)
    district = get(client, "district.operator", **NEXT_WEEK)
    other = get(client, "other.operator", **NEXT_WEEK)
    assert district["meta"]["units_in_area"] + other["meta"]["units_in_area"] == everyone["meta"]["units_in_area"]
    assert contains(district["features"][0], HOT_POINT) and contains(other["features"][0], OTHER_HOT_POINT)
    for feature in district["features"]:
        assert shape(feature["geometry"]).centroid.x < 117.5
        assert feature["properties"]["grid_code"] in (GRID_A1, GRID_A2, GRID_B1, GRID_B2)
    for feature in other["features"]:
        assert shape(feature["geometry"]).centroid.x > 117.5 and feature["properties"]["grid_code"] is None
    assert DISTRICT not in str(other) and GRID_A1 not in str(other)
    worker = get(client, "worker.a1", **NEXT_WEEK)
    assert {f["properties"]["grid_code"] for f in worker["features"]} == {GRID_A1}
    assert contains(worker["features"][0], HOT_POINT)


def test_grids_as_units(client: TestClient, hotspot_data: int) -> None:
    body = get(client, "district.operator", unit="grid", coverage=0.3, start="2025-06-02")
    assert body["meta"]["unit"] == "grid" and body["meta"]["units_in_area"] == 4 and body["meta"]["cell_size"] is None
    (feature,) = body["features"]  # a quarter of the area: one grid of four within 30 %
    assert feature["id"] == GRID_A1 and feature["properties"]["name"] == "天桥社区第1网格"
    assert feature["geometry"]["type"] == "Polygon"
    assert OTHER_DISTRICT not in str(get(client, "district.operator", unit="grid", coverage=0.5, start="2025-06-02"))


def test_categories_and_months(client: TestClient, hotspot_data: int) -> None:
    burglary = get(client, "operator", categories="0105", period="month", start="2025-06-15", cell_size=5000)
    assert burglary["meta"]["selection"] == "categories:0105"
    assert burglary["meta"]["period"] == {"type": "month", "start": "2025-06-01", "end": "2025-06-30"}
    assert contains(burglary["features"][0], OTHER_HOT_POINT)
    assert 95 <= burglary["meta"]["training"]["events"] <= 100


def test_the_forecast_is_cached_until_the_data_change(client: TestClient, hotspot_data: int, db: Database) -> None:
    from civicgrid.geo.service import bump_revision

    with db.unit_of_work() as session:
        bump_revision(session)  # a map with a revision: forecasts may be cached
    first = get(client, "operator", **NEXT_WEEK)
    again = get(client, "district.operator", **NEXT_WEEK)
    assert first["meta"]["cached"] is False and again["meta"]["cached"] is True
    from tests.safety.hotspot_sim import add_incidents

    with db.unit_of_work() as session:
        from datetime import UTC, datetime

        add_incidents(session, [HOT_POINT], [datetime(2025, 5, 30, 12, tzinfo=UTC)], prefix="N")
    fresh = get(client, "operator", **NEXT_WEEK)
    assert fresh["meta"]["cached"] is False
    assert fresh["meta"]["training"]["events"] == first["meta"]["training"]["events"] + 1


def test_without_data_nothing_is_flagged(client: TestClient, tiny_city: TinyCity, db: Database) -> None:
    from civicgrid.safety.categories import seed_safety_categories

    with db.unit_of_work() as session:
        seed_safety_categories(session)
    body = get(client, "operator", cell_size=5000)
    assert body["features"] == [] and body["meta"]["training"]["events"] == 0


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"cell_size": 99}, "cell_size", "between 100 m and 5 km"),
        ({"cell_size": 5001}, "cell_size", "between 100 m and 5 km"),
        ({"method": "crystal_ball"}, "method", "counts, kde, self_exciting, near_repeat"),
        ({"unit": "hexagon"}, "unit", "cell or grid"),
        ({"coverage": 0}, "coverage", "coverage"),
        ({"coverage": 0.9}, "coverage", "coverage"),
        ({"train_days": 2}, "train_days", "train_days"),
        ({"period": "year"}, "period", "unknown period type"),
        ({"indicator": "hazards"}, "indicator", "no incident category counts towards"),
        ({"categories": "0101,9999"}, "categories", "unknown incident categories: 9999"),
    ],
)
def test_bad_queries_are_refused(
    client: TestClient, hotspot_data: int, params: dict[str, Any], field: str, words: str
) -> None:
    response = client.get(URL, params={"cell_size": 5000, **params}, headers=auth_headers(client, "operator"))
    error = assert_error(response, 422, "invalid_input")
    assert words in error["message"]
    assert any(d.get("field") == field for d in error["details"])
    if field == "method":
        assert error["details"][0]["methods"] == ["counts", "kde", "self_exciting", "near_repeat"]


def test_hotspots_need_safety_read(client: TestClient, hotspot_data: int) -> None:
    assert_error(client.get(URL, params=NEXT_WEEK, headers=auth_headers(client, "resident")), 403, "forbidden")
    assert client.get(URL, params=NEXT_WEEK).status_code == 401


def test_the_methods_with_their_last_back_test(client: TestClient, hotspot_data: int, db: Database) -> None:
    methods = client.get(f"{URL}/methods", headers=auth_headers(client, "operator")).json()
    assert [m["name"] for m in methods] == ["counts", "kde", "self_exciting", "near_repeat"]
    assert methods[0]["baseline"] is True and all(m["last_backtest"] is None for m in methods)
    spec = replace(BacktestSpec(), cell_size=5000, periods=2, train_days=180, methods=("counts", "kde"))
    assert backtest_cli.run(spec, None, None, database=db) == 0
    methods = client.get(f"{URL}/methods", headers=auth_headers(client, "operator")).json()
    counts = methods[0]["last_backtest"]
    assert counts["spec"]["periods"] == 2 and counts["figures"]["1%"]["pai"] > 1
    assert methods[1]["last_backtest"] is not None and methods[2]["last_backtest"] is None
    # A back-test of the whole city is not shown to a grid worker (its scope is one grid).
    worker = client.get(f"{URL}/methods", headers=auth_headers(client, "worker.a1")).json()
    assert all(m["last_backtest"] is None for m in worker)
