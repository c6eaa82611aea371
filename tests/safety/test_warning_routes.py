"""The warning routes: the scoped, filtered list; the detail with evidence and allowed actions; acknowledge,
to-case and close with their refusals; the threshold rules; live events to the areas concerned."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from civicgrid.auth.service import load_principal
from civicgrid.authz.scope import Principal
from civicgrid.core.broadcast import Broadcaster, Event
from civicgrid.core.db import Database
from civicgrid.safety import warnings
from tests.safety.conftest import store_incidents
from tests.support import aio
from tests.support.api import assert_error, auth_headers
from tests.support.city import COMMUNITY_A, COMMUNITY_B, STREET_A, TinyCity

DAY = date(2025, 3, 10)
BASE = "/api/v1/safety"


class Api:
    def __init__(self, client: TestClient, username: str) -> None:
        self.client = client
        self.headers = auth_headers(client, username)

    def call(self, method: str, path: str, status: int = 200, body: Any = None, **params: Any) -> Any:
        response = self.client.request(method, f"{BASE}{path}", json=body, params=params, headers=self.headers)
        assert response.status_code == status, response.text
        return response.json() if response.content else None


@pytest.fixture
def as_user(client: TestClient, warnings_city: TinyCity) -> Callable[[str], Api]:
    made: dict[str, Api] = {}

    def get(username: str) -> Api:
        if username not in made:
            made[username] = Api(client, username)
        return made[username]

    return get


def _create(db: Database, area: str, subject: str = "inc:01", kind: str = "surge", severity: str = "notice") -> int:
    new = warnings.NewWarning(
        kind=kind,
        subject=subject,
        area_code=area,
        period_start=DAY,
        period_end=DAY,
        title=f"{area} {subject}",
        evidence={"count_kind": subject, "observed": 5, "expected": 0.8, "p": 0.0004, "q": 0.01},
        severity=severity,
    )
    with db.unit_of_work() as session:
        (created,) = warnings.create_warnings(session, [new]).created
        return created.id


def test_the_list_is_scoped_filtered_and_paged(db: Database, as_user: Callable[[str], Api]) -> None:
    in_a = _create(db, COMMUNITY_A)
    in_b = _create(db, COMMUNITY_B, subject="inc:04", severity="serious")
    street = _create(db, STREET_A, subject="fatal:inc:05", kind="rule", severity="fatal")
    operator, community = as_user("operator"), as_user("community.a")

    everything = operator.call("GET", "/warnings")
    assert everything["total"] == 3 and [w["id"] for w in everything["items"]] == [street, in_b, in_a]
    first = everything["items"][2]
    assert (first["subject_name"], first["area_name"], first["status"], first["level"]) == (
        "刑事警情",
        "天桥社区",
        "open",
        "community",
    )
    assert everything["items"][0]["subject_name"] == "交通事故死亡"
    assert [w["id"] for w in operator.call("GET", "/warnings", severity="serious")["items"]] == [in_b]
    assert [w["id"] for w in operator.call("GET", "/warnings", kind="rule")["items"]] == [street]
    assert [w["id"] for w in operator.call("GET", "/warnings", area_code=STREET_A, sort="id")["items"]] == [
        in_a,
        street,
    ]
    assert [w["id"] for w in operator.call("GET", "/warnings", level="community", subject="inc:04")["items"]] == [in_b]
    paged = operator.call("GET", "/warnings", page=2, page_size=2, sort="id")
    assert (paged["total"], [w["id"] for w in paged["items"]]) == (3, [street])
    assert [w["id"] for w in community.call("GET", "/warnings")["items"]] == [in_a]

    for params, field in (({"status": "done"}, "status"), ({"sort": "title"}, "sort")):
        response = operator.client.get(f"{BASE}/warnings", params=params, headers=operator.headers)
        error = assert_error(response, 422, "invalid_input")
        assert field in str(error["details"])
    assert_error(community.client.get(f"{BASE}/warnings/{in_b}", headers=community.headers), 404, "not_found")
    resident = Api(operator.client, "resident")
    assert_error(resident.client.get(f"{BASE}/warnings", headers=resident.headers), 403, "forbidden")


def test_the_detail_and_the_actions(db: Database, as_user: Callable[[str], Api]) -> None:
    with db.unit_of_work() as session:
        store_incidents(session, [("0101", DAY, 117.1, 32.2)] * 5)
    warning_id = _create(db, COMMUNITY_A)
    operator, community = as_user("operator"), as_user("community.a")

    detail = operator.call("GET", f"/warnings/{warning_id}")
    assert detail["evidence"]["q"] == 0.01 and detail["records_total"] == 5 and len(detail["records"]) == 5
    assert detail["records"][0]["category_name"] == "盗窃" and detail["records_truncated"] is False
    assert detail["allowed_actions"] == ["acknowledge", "to_case", "close"]
    seen_by_community = community.call("GET", f"/warnings/{warning_id}")
    assert (seen_by_community["records_total"], seen_by_community["records"]) == (5, None)
    worker = as_user("worker.a1")
    assert worker.call("GET", f"/warnings/{warning_id}", status=404)["error"]["code"] == "not_found"

    acknowledged = community.call("POST", f"/warnings/{warning_id}/acknowledge")
    assert acknowledged["status"] == "acknowledged" and acknowledged["allowed_actions"] == ["to_case", "close"]
    again = community.call("POST", f"/warnings/{warning_id}/acknowledge", status=409)["error"]
    assert again["code"] == "action_not_allowed"
    assert again["details"] == {"status": "acknowledged", "allowed_actions": ["to_case", "close"]}

    turned = operator.call("POST", f"/warnings/{warning_id}/to-case")
    assert turned["warning"]["case_id"] == turned["case_id"] and turned["case_code"].startswith("SJ")
    case = operator.client.get(f"/api/v1/cases/{turned['case_id']}", headers=operator.headers).json()
    assert (case["category_code"], case["community_code"]) == ("0201", COMMUNITY_A)
    operator.call("POST", f"/warnings/{warning_id}/to-case", status=409)
    bad_body = operator.call("POST", f"/warnings/{warning_id}/to-case", status=422, body={"colour": "red"})
    assert bad_body["error"]["code"] == "invalid_input"

    no_note = community.call("POST", f"/warnings/{warning_id}/close", status=422, body={})
    assert no_note["error"]["details"] == [{"field": "note", "problem": "required"}]
    closed = community.call("POST", f"/warnings/{warning_id}/close", body={"note": "已转案件处理"})
    assert (closed["status"], closed["close_note"], closed["allowed_actions"]) == ("closed", "已转案件处理", [])
    community.call("POST", f"/warnings/{warning_id}/close", status=409, body={"note": "again"})


def test_grid_workers_read_but_do_not_act(db: Database, as_user: Callable[[str], Api]) -> None:
    warning_id = _create(db, "340303001001001")
    worker = as_user("worker.a1")
    assert worker.call("GET", f"/warnings/{warning_id}")["allowed_actions"] == []
    assert worker.call("POST", f"/warnings/{warning_id}/acknowledge", status=403)["error"]["code"] == "forbidden"


def test_warning_rules_over_http(db: Database, as_user: Callable[[str], Api]) -> None:
    admin, operator = as_user("admin"), as_user("operator")
    body = {"name": "盗窃三日五起", "kind": "inc:01", "level": "community", "window_days": 3, "threshold": 5}
    created = admin.call("POST", "/warning-rules", status=201, body=body)
    assert (created["kind_name"], created["severity"], created["active"]) == ("刑事警情", "notice", True)
    assert (
        operator.call("POST", "/warning-rules", status=403, body={**body, "name": "x"})["error"]["code"] == "forbidden"
    )
    assert admin.call("POST", "/warning-rules", status=409, body=body)["error"]["code"] == "duplicate_rule"
    bad = admin.call("POST", "/warning-rules", status=422, body={**body, "name": "y", "kind": "inc:77"})
    assert bad["error"]["details"][0]["field"] == "kind"
    listed = operator.call("GET", "/warning-rules")
    assert [r["name"] for r in listed["items"]] == ["盗窃三日五起"]
    assert admin.call("GET", "/warning-rules", active=False)["total"] == 0
    replaced = admin.call(
        "PUT", f"/warning-rules/{created['id']}", body={**body, "threshold": 8, "severity": "serious", "active": False}
    )
    assert (replaced["threshold"], replaced["severity"], replaced["active"]) == (8, "serious", False)
    operator.call("DELETE", f"/warning-rules/{created['id']}", status=403)
    admin.call("DELETE", f"/warning-rules/{created['id']}", status=204)
    admin.call("PUT", f"/warning-rules/{created['id']}", status=404, body=body)
    as_user("resident").call("GET", "/warning-rules", status=403)


def _principals(db: Database, city: TinyCity, *usernames: str) -> dict[str, Principal]:
    with db.unit_of_work(write=False) as session:
        found = {name: load_principal(session, city.users[name]) for name in usernames}
    return {name: p for name, p in found.items() if p is not None}


def test_actions_are_announced_to_the_areas_concerned(
    db: Database, client: TestClient, warnings_city: TinyCity, as_user: Callable[[str], Api]
) -> None:
    warning_id = _create(db, COMMUNITY_A)
    principals = _principals(db, warnings_city, "community.a", "operator", "worker.b1", "police")
    operator = as_user("operator")
    broadcaster: Broadcaster = client.app.state.broadcaster  # type: ignore[attr-defined]

    async def scenario() -> dict[str, list[Event]]:
        subscriptions = {
            name: broadcaster.subscribe(lambda e, p=p: e.audience.includes(p))  # type: ignore[misc]
            for name, p in principals.items()
        }
        await asyncio.to_thread(lambda: operator.call("POST", f"/warnings/{warning_id}/acknowledge"))
        seen: dict[str, list[Event]] = {}
        for name, subscription in subscriptions.items():
            seen[name] = []
            while (event := await subscription.next(0.2)) is not None:
                seen[name].append(event)
            subscription.unsubscribe()
        return seen

    seen = aio.run(scenario(), 30)
    for name in ("community.a", "operator", "police"):  # department staff read the index of the whole city
        assert [(e.topic, e.payload["id"], e.payload["action"]) for e in seen[name]] == [
            ("safety.warning", warning_id, "acknowledge")
        ], name
    assert seen["worker.b1"] == []
