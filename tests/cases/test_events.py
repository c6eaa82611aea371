"""What case actions tell people: notifications to whom an action concerns, live events to the screens in scope."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from civicgrid.auth.service import load_principal
from civicgrid.authz.scope import Principal
from civicgrid.core.broadcast import Broadcaster, Event
from civicgrid.core.db import Database
from tests.cases.conftest import IN_A1
from tests.support import aio
from tests.support.city import GRID_A1, TinyCity


def _notifications(api: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.get("/notifications")["items"]
    return items


def _principals(db: Database, city: TinyCity, *usernames: str) -> dict[str, Principal]:
    with db.unit_of_work(write=False) as session:
        found = {name: load_principal(session, city.users[name]) for name in usernames}
    assert all(found.values())
    return {name: p for name, p in found.items() if p is not None}


def _events_seen_by(
    client: TestClient, principals: dict[str, Principal], work: Callable[[], Any]
) -> dict[str, list[Event]]:
    """Subscribe each principal as the live stream does, run `work` (HTTP calls), collect what each received."""
    broadcaster: Broadcaster = client.app.state.broadcaster  # type: ignore[attr-defined]

    async def scenario() -> dict[str, list[Event]]:
        subscriptions = {
            name: broadcaster.subscribe(lambda e, p=p: e.audience.includes(p))  # type: ignore[misc]
            for name, p in principals.items()
        }
        await asyncio.to_thread(work)
        seen: dict[str, list[Event]] = {}
        for name, subscription in subscriptions.items():
            seen[name] = []
            while (event := await subscription.next(0.2)) is not None:
                seen[name].append(event)
            subscription.unsubscribe()
        return seen

    return aio.run(scenario(), 30)


def test_dispatch_notifies_the_departments_staff_and_not_the_dispatcher(as_user: Any, cases_city: TinyCity) -> None:
    resident, worker, police = as_user("resident"), as_user("worker.a1"), as_user("police")
    case = resident.report(category="0201", description="可疑车辆")["case"]
    worker.act(case["id"], "accept")
    worker.act(case["id"], "dispatch", lead_unit_id=cases_city.units["dept-police"], note="请公安核查")
    (notification,) = _notifications(police)
    assert notification["kind"] == "assignment"
    assert notification["title"].startswith(f"新派遣事件：{case['code']}")
    assert notification["body"] == "请公安核查"
    assert (notification["object_type"], notification["object_id"]) == ("case", str(case["id"]))
    assert _notifications(worker) == []


def test_escalation_notifies_the_new_rung_and_a_return_the_handler(as_user: Any, cases_city: TinyCity) -> None:
    worker, community, police = as_user("worker.a1"), as_user("community.a"), as_user("police")
    case = worker.report()["case"]  # the grid worker's own grid: accepted at once
    worker.act(case["id"], "escalate", note="需要社区协调")
    assert [n["title"].split("：")[0] for n in _notifications(community)] == ["上报事件"]
    community.act(case["id"], "dispatch", lead_unit_id=cases_city.units["dept-police"])
    police.act(case["id"], "sign")
    police.act(case["id"], "handle", note="已处理")
    worker.act(case["id"], "return", note="井盖仍未更换")
    kinds = [(n["kind"], n["title"].split("：")[0]) for n in _notifications(police)]
    assert kinds == [("return", "核查未通过，事件退回"), ("assignment", "新派遣事件")]  # newest first


def test_a_manual_card_notifies_the_holder_and_a_comment_the_other_participants(
    as_user: Any, cases_city: TinyCity
) -> None:
    resident, worker, community = as_user("resident"), as_user("worker.a1"), as_user("community.a")
    case = resident.report(description="路灯不亮")["case"]
    worker.act(case["id"], "accept")
    community.act(case["id"], "supervise", colour="red", note="请尽快处置")
    (card,) = _notifications(worker)
    assert card["kind"] == "card" and card["title"].startswith(f"红牌督办：{case['code']}")
    assert _notifications(community) == []

    community.act(case["id"], "comment", note="进展如何？")
    replies = [n for n in _notifications(worker) if n["kind"] == "reply"]
    assert len(replies) == 1 and replies[0]["body"] == "进展如何？"
    assert [n["kind"] for n in _notifications(resident)] == ["reply"]  # the reporter has an account
    assert [n["kind"] for n in _notifications(community)] == []


def test_a_new_case_reaches_screens_in_scope_only(
    client: TestClient, db: Database, as_user: Any, cases_city: TinyCity
) -> None:
    worker = as_user("worker.a1")
    watchers = _principals(
        db, cases_city, "district.operator", "community.a", "worker.a1", "other.operator", "worker.b1", "police"
    )
    reported: dict[str, Any] = {}

    def report() -> None:
        reported.update(worker.report(point=IN_A1)["case"])

    seen = _events_seen_by(client, watchers, report)
    received = {name for name, events in seen.items() if any(e.topic == "case" for e in events)}
    assert received == {"district.operator", "community.a", "worker.a1"}
    (event,) = [e for e in seen["district.operator"] if e.topic == "case"]
    assert event.payload == {
        "id": reported["id"],
        "code": reported["code"],
        "status": "accepted",
        "level": "grid",
        "category_code": "0501",
        "lon": IN_A1[0],
        "lat": IN_A1[1],
        "grid_code": GRID_A1,
        "card": None,
        "action": "report",
    }


def test_a_dispatched_case_reaches_its_department_but_no_other(
    client: TestClient, db: Database, as_user: Any, cases_city: TinyCity
) -> None:
    worker = as_user("worker.a1")
    case = worker.report()["case"]
    watchers = _principals(db, cases_city, "police", "other.operator")

    def dispatch() -> None:
        worker.act(case["id"], "dispatch", lead_unit_id=cases_city.units["dept-police"])

    seen = _events_seen_by(client, watchers, dispatch)
    actions = [e.payload.get("action") for e in seen["police"] if e.topic == "case"]
    assert actions == ["dispatch"]
    assert sorted(e.topic for e in seen["police"]) == ["case", "notification"]  # and its bell rings
    assert seen["other.operator"] == []
