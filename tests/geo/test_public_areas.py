"""The public map of areas (GET /api/v1/public/map/areas), on the tiny city of tests/support/city.py."""

from __future__ import annotations

import shapely
from fastapi.testclient import TestClient
from shapely.geometry import Polygon, shape
from sqlalchemy import update

from civicgrid.core.db import Database
from civicgrid.geo.models import Division
from tests.support.api import assert_error
from tests.support.city import CITY, DISTRICT, OTHER_DISTRICT, STREET_A, STREET_B, TinyCity

URL = "/api/v1/public/map/areas"


def _jagged_district() -> Polygon:
    """The district's square with an east edge of 2,000 vertices, each wobbling by about a metre."""
    east = [(117.5 + (1e-5 if i % 2 else -1e-5), 32.0 + i / 2000) for i in range(1, 2000)]
    return Polygon([(117.0, 32.0), (117.5, 32.0), *east, (117.5, 33.0), (117.0, 33.0)])


def test_no_token_needed_and_only_code_and_name(client: TestClient, tiny_city: TinyCity) -> None:
    response = client.get(URL, params={"level": "district"})
    assert response.status_code == 200, response.text
    collection = response.json()
    assert collection["type"] == "FeatureCollection"
    assert collection["level"] == "district"
    assert collection["city_codes"] == [CITY]
    assert [f["id"] for f in collection["features"]] == [CITY, DISTRICT, OTHER_DISTRICT]
    for feature in collection["features"]:
        assert set(feature["properties"]) == {"code", "name"}
        assert feature["properties"]["code"] == feature["id"]
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    names = {f["properties"]["code"]: f["properties"]["name"] for f in collection["features"]}
    assert names == {CITY: "蚌埠市", DISTRICT: "蚌山区", OTHER_DISTRICT: "禹会区"}
    assert "households" not in response.text and "population" not in response.text

    streets = client.get(URL, params={"level": "street"}).json()
    assert [f["id"] for f in streets["features"]] == [CITY, STREET_A, STREET_B]
    assert client.get(URL).json()["level"] == "district"  # the default


def test_cacheable_with_an_etag(client: TestClient, tiny_city: TinyCity) -> None:
    first = client.get(URL, params={"level": "district"})
    assert first.headers["cache-control"] == "public, max-age=3600"
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = client.get(URL, params={"level": "district"}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["etag"] == etag and not again.content
    weak = client.get(URL, params={"level": "district"}, headers={"If-None-Match": f'"other", W/{etag}'})
    assert weak.status_code == 304
    streets = client.get(URL, params={"level": "street"}, headers={"If-None-Match": etag})
    assert streets.status_code == 200 and streets.headers["etag"] != etag


def test_simplification_reduces_vertices_and_the_etag_follows_the_data(
    client: TestClient, db: Database, tiny_city: TinyCity
) -> None:
    before = client.get(URL, params={"level": "district"}).headers["etag"]
    jagged = _jagged_district()
    with db.unit_of_work() as s:
        s.execute(update(Division).where(Division.code == DISTRICT).values(geometry=shapely.to_wkb(jagged)))
    response = client.get(URL, params={"level": "district"})
    assert response.headers["etag"] != before
    feature = next(f for f in response.json()["features"] if f["id"] == DISTRICT)
    simplified = shape(feature["geometry"])
    stored = shapely.get_num_coordinates(jagged)
    assert stored > 2000
    assert shapely.get_num_coordinates(simplified) < 50
    # Simplified, not distorted: the shape still covers the square within a few metres.
    assert abs(simplified.area - jagged.area) / jagged.area < 0.001
    assert simplified.contains(shapely.Point(117.25, 32.5))


def test_unknown_level_lists_the_allowed_values(client: TestClient, tiny_city: TinyCity) -> None:
    for level in ("grid", "community", "city", "nonsense"):
        error = assert_error(client.get(URL, params={"level": level}), 422, "invalid_input")
        assert "'district'" in error["message"] and "'street'" in error["message"], error
        assert error["details"][0]["field"] == "level"


def test_an_empty_map_is_an_empty_collection(client: TestClient, db: Database) -> None:
    collection = client.get(URL, params={"level": "street"}).json()
    assert collection == {"type": "FeatureCollection", "level": "street", "city_codes": [], "features": []}
