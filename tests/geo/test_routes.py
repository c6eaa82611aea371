"""The geo API through HTTP, on the tiny city of tests/support/city.py."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.support.api import assert_error, auth_headers
from tests.support.city import COMMUNITY_A, DISTRICT, GRID_A1, GRID_A2, GRID_B1, GRID_B2, TinyCity


def test_list_filter_sort_and_detail(client: TestClient, tiny_city: TinyCity) -> None:
    headers = auth_headers(client, "admin")
    page = client.get("/api/v1/geo/divisions", params={"level": "grid", "sort": "-code"}, headers=headers).json()
    assert [i["code"] for i in page["items"]] == [GRID_B2, GRID_B1, GRID_A2, GRID_A1]
    assert page["total"] == 4
    found = client.get("/api/v1/geo/divisions", params={"q": "天桥"}, headers=headers).json()
    assert {i["code"] for i in found["items"]} >= {COMMUNITY_A, GRID_A1}
    assert_error(client.get("/api/v1/geo/divisions", params={"sort": "secret"}, headers=headers), 422)
    detail = client.get(f"/api/v1/geo/divisions/{GRID_A1}", headers=headers).json()
    assert [a["level"] for a in detail["ancestors"]] == ["city", "district", "street", "community"]
    assert detail["grid_worker"]["user_id"] == tiny_city.users["worker.a1"]
    children = client.get(f"/api/v1/geo/divisions/{COMMUNITY_A}/children", headers=headers).json()
    assert [i["code"] for i in children["items"]] == [GRID_A1, GRID_A2]
    community = client.get(f"/api/v1/geo/divisions/{COMMUNITY_A}", headers=headers).json()
    assert community["children_count"] == 2
    assert community["grid_leader"] is None


def test_boundaries_are_scoped_and_simplified(client: TestClient, tiny_city: TinyCity) -> None:
    admin = auth_headers(client, "admin")
    collection = client.get("/api/v1/geo/boundaries", params={"level": "grid", "zoom": 10}, headers=admin).json()
    assert collection["type"] == "FeatureCollection"
    assert sorted(f["properties"]["code"] for f in collection["features"]) == [GRID_A1, GRID_A2, GRID_B1, GRID_B2]
    assert set(collection["features"][0]["properties"]) == {
        "code",
        "name",
        "level",
        "parent_code",
        "households",
        "population",
    }
    under = client.get(
        "/api/v1/geo/boundaries", params={"level": "grid", "parent_code": COMMUNITY_A}, headers=admin
    ).json()
    assert len(under["features"]) == 2
    worker = auth_headers(client, "worker.a1")
    own = client.get("/api/v1/geo/boundaries", params={"level": "grid"}, headers=worker).json()
    assert [f["properties"]["code"] for f in own["features"]] == [GRID_A1]
    assert client.get("/api/v1/geo/boundaries", params={"level": "street"}, headers=worker).json()["features"] == []


def test_lookup_single_batch_and_outside(client: TestClient, tiny_city: TinyCity) -> None:
    headers = auth_headers(client, "operator")
    hit = client.get("/api/v1/geo/lookup", params={"lon": 117.1, "lat": 32.2}, headers=headers).json()
    assert hit["grid_code"] == GRID_A1
    assert hit["community_code"] == COMMUNITY_A
    assert hit["city_name"] == "蚌埠市"
    outside = client.get("/api/v1/geo/lookup", params={"lon": 116.0, "lat": 31.0}, headers=headers)
    assert_error(outside, 404, "outside_city")
    no_grid = client.get("/api/v1/geo/lookup", params={"lon": 117.7, "lat": 32.5}, headers=headers)
    assert_error(no_grid, 404, "no_grid")
    batch = client.post(
        "/api/v1/geo/lookup/batch",
        json={"points": [[117.1, 32.2], [117.3, 32.7], [116.0, 31.0]]},
        headers=headers,
    ).json()
    assert batch == {"grid_codes": [GRID_A1, GRID_B2, None], "found": 2, "outside": 1, "outside_scope": 0}
    # A grid worker learns only about the own grid: other grids answer as outside the scope.
    worker = auth_headers(client, "worker.b1")
    foreign = client.get("/api/v1/geo/lookup", params={"lon": 117.1, "lat": 32.2}, headers=worker)
    assert_error(foreign, 404, "outside_scope")
    own = client.get("/api/v1/geo/lookup", params={"lon": 117.1, "lat": 32.7}, headers=worker).json()
    assert own["grid_code"] == "340303002001001"
    scoped = client.post(
        "/api/v1/geo/lookup/batch", json={"points": [[117.1, 32.2], [117.1, 32.7], [116.0, 31.0]]}, headers=worker
    ).json()
    assert scoped == {"grid_codes": [None, "340303002001001", None], "found": 1, "outside": 1, "outside_scope": 1}
    too_many = client.post("/api/v1/geo/lookup/batch", json={"points": [[117.1, 32.2]] * 10_001}, headers=headers)
    assert_error(too_many, 422)


def test_summary_counts_staffing(client: TestClient, tiny_city: TinyCity) -> None:
    summary = client.get(f"/api/v1/geo/summary/{DISTRICT}", headers=auth_headers(client, "admin")).json()
    assert summary["counts"] == {"street": 2, "community": 2, "grid": 4}
    assert (summary["grids"], summary["staffed_grids"], summary["unstaffed_grids"]) == (4, 3, 1)
    assert summary["households"] == 0
    assert summary["area_km2"] == 1.0


def test_imports_over_http(client: TestClient, tiny_city: TinyCity) -> None:
    headers = auth_headers(client, "admin")
    csv = "level,code,name,parent_code\nstreet,340303003,新街道,340303\n".encode()
    dry = client.post(
        "/api/v1/geo/import/divisions",
        params={"dry_run": True},
        files={"file": ("d.csv", csv, "text/csv")},
        headers=headers,
    )
    assert dry.status_code == 200, dry.text
    assert dry.json()["created"] == 1
    assert dry.json()["dry_run"] is True
    assert_error(client.get("/api/v1/geo/divisions/340303003", headers=headers), 404)
    done = client.post("/api/v1/geo/import/divisions", files={"file": ("d.csv", csv)}, headers=headers)
    assert done.json()["created"] == 1
    assert client.get("/api/v1/geo/divisions/340303003", headers=headers).status_code == 200
    grid = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": f"{COMMUNITY_A}003"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[117.1, 32.1], [117.4, 32.1], [117.4, 32.3], [117.1, 32.3], [117.1, 32.1]]],
                },
            }
        ],
    }
    refused = client.post(
        "/api/v1/geo/import/grids", files={"file": ("g.geojson", json.dumps(grid).encode())}, headers=headers
    )
    error = assert_error(refused, 422, "import_rejected")
    assert {d["feature"] for d in error["details"]} == {f"{COMMUNITY_A}003"}
    operator = auth_headers(client, "operator")
    assert_error(client.post("/api/v1/geo/import/divisions", files={"file": ("d.csv", csv)}, headers=operator), 403)


def test_boundaries_cache_follows_imports(client: TestClient, tiny_city: TinyCity) -> None:
    headers = auth_headers(client, "admin")
    before = client.get("/api/v1/geo/boundaries", params={"level": "grid", "zoom": 8}, headers=headers).json()
    assert len(before["features"]) == 4
    boundary = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": GRID_A2},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[117.25, 32.0], [117.5, 32.0], [117.5, 32.4], [117.25, 32.4], [117.25, 32.0]]],
                },
            }
        ],
    }
    done = client.post(
        "/api/v1/geo/import/boundaries", files={"file": ("b.geojson", json.dumps(boundary).encode())}, headers=headers
    )
    assert done.status_code == 200, done.text
    after = client.get("/api/v1/geo/boundaries", params={"level": "grid", "zoom": 8}, headers=headers).json()
    shape = next(f for f in after["features"] if f["properties"]["code"] == GRID_A2)["geometry"]
    assert max(lat for _, lat in shape["coordinates"][0]) == 32.4
    # The lookup index follows too: (117.3, 32.45) is no longer in A2.
    gone = client.get("/api/v1/geo/lookup", params={"lon": 117.3, "lat": 32.45}, headers=headers)
    assert_error(gone, 404, "no_grid")
