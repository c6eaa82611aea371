"""The case list filtered by a map box (`bbox=min_lon,min_lat,max_lon,max_lat`), as the map's case layer asks."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cases.conftest import IN_A1, IN_A2, IN_B2
from tests.support.api import assert_error


def test_only_cases_inside_the_box_edges_included(as_user: Any) -> None:
    operator = as_user("operator")
    made = {point: operator.report(point=point)["case"] for point in (IN_A1, IN_A2, IN_B2)}
    everything = operator.get("/cases", bbox="117,32,118,33")
    assert everything["total"] == 3
    only_a1 = operator.get("/cases", bbox="117.05,32.1,117.2,32.3")
    assert [c["id"] for c in only_a1["items"]] == [made[IN_A1]["id"]]
    east = operator.get("/cases", bbox="117.2,32.0,117.5,33.0")
    assert {c["id"] for c in east["items"]} == {made[IN_A2]["id"], made[IN_B2]["id"]}
    # A point on the box's edge is inside.
    edge = f"{IN_A1[0]},{IN_A1[1]},{IN_A1[0] + 0.01},{IN_A1[1] + 0.01}"
    assert operator.get("/cases", bbox=edge)["total"] == 1
    assert operator.get("/cases", bbox="119,30,119.5,30.5")["total"] == 0


def test_the_box_combines_with_the_other_filters_and_the_scope(as_user: Any) -> None:
    operator, worker = as_user("operator"), as_user("worker.a1")
    operator.report(point=IN_A2)
    mine = worker.report(point=IN_A1)["case"]
    worker.act(mine["id"], "start")
    worker.act(mine["id"], "handle", note="已处理")
    worker.act(mine["id"], "pass")
    # The grid worker sees only the cases of the grid, whatever the box.
    assert [c["id"] for c in worker.get("/cases", bbox="117,32,118,33")["items"]] == [mine["id"]]
    assert operator.get("/cases", bbox="117,32,117.5,32.5")["total"] == 2
    open_in_box = operator.get("/cases", bbox="117,32,117.5,32.5", open_only=True, page_size=500)
    assert open_in_box["total"] == 1 and open_in_box["items"][0]["id"] != mine["id"]


@pytest.mark.parametrize(
    "bbox",
    [
        "117,32,118",
        "a,b,c,d",
        "117,32,118,33,1",
        "118,32,117,33",
        "117,33,118,32",
        "117,32,117,33",
        "nan,32,118,33",
        "-190,32,118,33",
    ],
)
def test_a_bad_box_is_refused_saying_what_is_expected(as_user: Any, bbox: str) -> None:
    operator = as_user("operator")
    error = assert_error(operator.client.get("/api/v1/cases", params={"bbox": bbox}, headers=operator.headers), 422)
    assert "min_lon,min_lat,max_lon,max_lat" in error["message"]
    assert error["details"][0]["field"] == "bbox"
