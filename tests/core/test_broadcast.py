"""Live updates: fan-out, audience filtering, slow consumers, publishing after commit, LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
from sqlalchemy import text
from tests.support import aio

from civicgrid.authz.permissions import ROLE_PERMISSIONS, Role
from civicgrid.authz.scope import Level, Principal, Scope
from civicgrid.core import broadcast
from civicgrid.core.broadcast import (
    RESYNC,
    Audience,
    Broadcaster,
    Event,
    PostgresBroadcaster,
    broadcaster_for,
    postgres_messages,
)
from civicgrid.core.db import Database

T = TypeVar("T")

CITY, DISTRICT, OTHER_DISTRICT = "340300", "340303", "340304"
COMMUNITY_A, GRID_A1, GRID_B1 = "340303001001", "340303001001001", "340303002001001"
AREA_A1 = {
    Level.city: CITY,
    Level.district: DISTRICT,
    Level.street: "340303001",
    Level.community: COMMUNITY_A,
    Level.grid: GRID_A1,
}
AREA_B1 = {**AREA_A1, Level.street: "340303002", Level.community: "340303002001", Level.grid: GRID_B1}


def run(coro: Coroutine[Any, Any, T]) -> T:
    return aio.run(coro, 10)


def principal(
    user_id: int, role: Role, code: str, level: Level, unit_id: int | None = None, department: int | None = None
) -> Principal:
    return Principal(
        user_id, f"user{user_id}", role.value, ROLE_PERMISSIONS[role], Scope(code, level, department), unit_id=unit_id
    )


WORKER_A1 = principal(1, Role.grid_worker, GRID_A1, Level.grid, unit_id=10)
DISTRICT_OPERATOR = principal(2, Role.center_operator, DISTRICT, Level.district)
OTHER_OPERATOR = principal(3, Role.center_operator, OTHER_DISTRICT, Level.district)
POLICE = principal(4, Role.department_staff, CITY, Level.city, unit_id=20, department=20)
RESIDENT = principal(5, Role.resident, COMMUNITY_A, Level.community)


# -- audiences ----------------------------------------------------------------------------------------------


def test_an_audience_names_accounts_areas_and_units() -> None:
    to_user = Audience.of(users=[1])
    assert to_user.includes(WORKER_A1)
    assert not to_user.includes(DISTRICT_OPERATOR)

    in_a1 = Audience.of(areas=[AREA_A1])
    assert in_a1.includes(WORKER_A1)
    assert in_a1.includes(DISTRICT_OPERATOR)  # the district holds grid A1
    assert not in_a1.includes(OTHER_OPERATOR)
    assert not Audience.of(areas=[AREA_B1]).includes(WORKER_A1)

    to_police = Audience.of(units=[20])
    assert to_police.includes(POLICE)
    assert not to_police.includes(DISTRICT_OPERATOR)
    assert Audience.of(units=[10]).includes(WORKER_A1)  # the worker's own unit


def test_a_permission_limits_area_and_unit_matches_but_not_named_accounts() -> None:
    audience = Audience.of(areas=[AREA_A1], permission="care:read")
    assert audience.includes(WORKER_A1)
    assert not audience.includes(RESIDENT)  # the resident's community holds A1, but no care:read
    assert Audience.of(users=[5], areas=[AREA_A1], permission="care:read").includes(RESIDENT)
    assert not Audience.of(units=[20], permission="care:read").includes(POLICE)


def test_events_round_trip_through_json() -> None:
    event = Event(
        "case.updated",
        {"case_id": 7, "title": "噪音扰民"},
        Audience.of(users=[1, 2], areas=[AREA_A1], units=[20], permission="x:y"),
    )
    back = Event.from_json(event.to_json())
    assert back.topic == event.topic and back.payload == event.payload
    assert back.audience == event.audience
    assert back.audience.includes(WORKER_A1)


def test_oversized_notifications_are_cut_to_ids_then_split_by_audience() -> None:
    small = Event("notification", {"id": 1}, Audience.of(users=[1]))
    assert postgres_messages(small) == [small.to_json()]

    big = Event("case.updated", {"case_id": 9, "object_type": "case", "body": "长" * 5000}, Audience.of(users=[1]))
    (message,) = postgres_messages(big)
    assert len(message.encode()) <= broadcast.PG_PAYLOAD_LIMIT
    assert json.loads(message)["payload"] == {"truncated": True, "case_id": 9, "object_type": "case"}

    crowd = Event("notification", {"kind": "system"}, Audience.of(users=range(1, 3001), areas=[AREA_A1], units=[20]))
    messages = postgres_messages(crowd)
    assert len(messages) > 1
    assert all(len(m.encode()) <= broadcast.PG_PAYLOAD_LIMIT for m in messages)
    parts = [Event.from_json(m) for m in messages]
    assert set().union(*(p.audience.user_ids for p in parts)) == set(range(1, 3001))
    assert sum(len(p.audience.areas) for p in parts) == 1
    assert set().union(*(p.audience.unit_ids for p in parts)) == {20}
    assert sum(p.audience.size() for p in parts) == crowd.audience.size()  # nobody receives it twice


# -- the in-process broadcaster -----------------------------------------------------------------------------


async def _drain(subscription: broadcast.Subscription, timeout: float = 0.05) -> list[Event]:
    events = []
    while (event := await subscription.next(timeout)) is not None:
        events.append(event)
    return events


def test_every_subscriber_receives_what_its_filter_accepts() -> None:
    async def scenario() -> list[list[str]]:
        hub = Broadcaster()
        everyone = hub.subscribe()
        worker = hub.subscribe(lambda e: e.audience.includes(WORKER_A1))
        other = hub.subscribe(lambda e: e.audience.includes(OTHER_OPERATOR))
        hub.publish(Event("one", {}, Audience.of(areas=[AREA_A1])))
        hub.publish(Event("two", {}, Audience.of(users=[3])))
        hub.publish(Event("three", {}, Audience.of(units=[10])))
        return [[e.topic for e in await _drain(s)] for s in (everyone, worker, other)]

    everyone, worker, other = run(scenario())
    assert everyone == ["one", "two", "three"]
    assert worker == ["one", "three"]
    assert other == ["two"]


def test_publishing_from_another_thread_wakes_the_consumer() -> None:
    async def scenario() -> Event:
        hub = Broadcaster()
        subscription = hub.subscribe()
        thread = threading.Thread(target=hub.publish, args=(Event("from-thread", {"n": 1}),))
        thread.start()
        event = await subscription.next(timeout=5)
        thread.join()
        assert event is not None
        return event

    assert run(scenario()).payload == {"n": 1}


def test_a_slow_consumer_loses_its_oldest_events_and_is_told_to_resync() -> None:
    async def scenario() -> list[Event]:
        hub = Broadcaster(max_queue=3)
        subscription = hub.subscribe()
        for n in range(5):
            hub.publish(Event("tick", {"n": n}))
        return await _drain(subscription)

    events = run(scenario())
    assert events[0].topic == RESYNC and events[0].payload == {"dropped": 2}
    assert [e.payload["n"] for e in events[1:]] == [2, 3, 4]


def test_stopping_ends_every_subscription_and_refuses_new_ones() -> None:
    async def scenario() -> tuple[list[str], int, bool]:
        hub = Broadcaster()
        async with hub.subscribe() as subscription:
            waiter = asyncio.create_task(_collect(subscription))
            await asyncio.sleep(0)
            hub.publish(Event("last"))
            await asyncio.sleep(0.01)
            hub.stop()
            topics = await waiter
        late = hub.subscribe()
        try:
            await late.next(1)
            ended = False
        except StopAsyncIteration:
            ended = True
        return topics, hub.subscriber_count, ended

    topics, count, late_ended = run(scenario())
    assert topics == ["last"]
    assert count == 0
    assert late_ended


async def _collect(subscription: broadcast.Subscription) -> list[str]:
    return [event.topic async for event in subscription]


def test_leaving_a_subscription_unsubscribes() -> None:
    async def scenario() -> tuple[int, int]:
        hub = Broadcaster()
        async with hub.subscribe():
            inside = hub.subscriber_count
        return inside, hub.subscriber_count

    assert run(scenario()) == (1, 0)


# -- publishing after commit --------------------------------------------------------------------------------


def test_events_of_a_transaction_leave_only_after_it_committed(db: Database) -> None:
    async def scenario() -> list[str]:
        hub = broadcaster_for(db)
        hub.start()
        broadcast.install(hub)
        try:
            subscription = hub.subscribe()
            session = db.session()
            broadcast.publish_after_commit(session, Event("rolled-back"))
            session.rollback()
            session.close()
            with db.unit_of_work() as session:
                session.execute(text("SELECT 1"))
                broadcast.publish_after_commit(session, Event("committed"))
                assert await subscription.next(0.2) is None  # not before the commit
            with pytest.raises(RuntimeError), db.unit_of_work() as session:
                broadcast.publish_after_commit(session, Event("failed"))
                raise RuntimeError("the request failed")
            return [e.topic for e in await _drain(subscription, 0.5)]
        finally:
            broadcast.uninstall(hub)
            hub.stop()

    assert run(scenario()) == ["committed"]
    assert broadcast.current() is None


# -- PostgreSQL LISTEN/NOTIFY -------------------------------------------------------------------------------


def test_listen_notify_fans_out_to_every_process(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("LISTEN/NOTIFY needs PostgreSQL; SQLite uses the in-process broadcaster")
    # Two broadcasters with their own listener connections stand for two API worker processes.
    first = broadcaster_for(db)
    second = broadcaster_for(db)
    assert isinstance(first, PostgresBroadcaster) and isinstance(second, PostgresBroadcaster)

    async def scenario() -> tuple[list[Event], list[Event]]:
        a = first.subscribe(lambda e: e.audience.includes(WORKER_A1))
        b = second.subscribe(lambda e: e.audience.includes(OTHER_OPERATOR))
        # Published by "process one" from a request thread; both listeners receive it.
        await asyncio.to_thread(first.publish, Event("case.updated", {"case_id": 1}, Audience.of(areas=[AREA_A1])))
        await asyncio.to_thread(first.publish, Event("notification", {"body": "长" * 4000}, Audience.of(users=[1, 3])))
        crowd = Audience.of(users=[*range(100, 2000), 3])
        await asyncio.to_thread(second.publish, Event("crowd", {"kind": "system"}, crowd))
        return await _drain(a, 1.0), await _drain(b, 1.0)

    first.start()
    second.start()
    try:
        assert first.wait_listening(5) and second.wait_listening(5)
        to_a, to_b = run(scenario())
    finally:
        first.stop()
        second.stop()
    assert [e.topic for e in to_a] == ["case.updated", "notification"]
    assert to_a[0].payload == {"case_id": 1}
    assert to_a[1].payload == {"truncated": True}  # the long body did not fit in a notification
    assert [e.topic for e in to_b] == ["notification", "crowd"]  # the crowd came in parts; the user once


def test_publish_without_a_broadcaster_still_notifies_postgres_listeners(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("LISTEN/NOTIFY needs PostgreSQL")
    listener = broadcaster_for(db)

    async def scenario() -> list[str]:
        subscription = listener.subscribe()

        # A job runner or a command: no broadcaster of its own, the session's engine sends the NOTIFY.
        def job() -> None:
            with db.unit_of_work() as session:
                broadcast.publish_after_commit(session, Event("from-a-job"))

        await asyncio.to_thread(job)
        return [e.topic for e in await _drain(subscription, 1.0)]

    listener.start()
    try:
        assert broadcast.current() is None
        assert run(scenario()) == ["from-a-job"]
    finally:
        listener.stop()


def test_stopping_wakes_the_listener_at_once(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("LISTEN/NOTIFY needs PostgreSQL")
    # A listener that would otherwise notice the halt only after its 60 s poll.
    listener = PostgresBroadcaster(db.engine, poll_seconds=60)
    listener.start()
    assert listener.wait_listening(5)
    began = time.monotonic()
    listener.stop()
    assert time.monotonic() - began < 10
    assert not listener.wait_listening(0)
