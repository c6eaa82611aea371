"""Notifications: sending (rows, audit, an event after commit), reading and marking only your own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from tests.support import aio
from tests.support.city import TinyCity

from civicgrid.audit.models import AuditRecord
from civicgrid.auth.service import load_principal
from civicgrid.authz.scope import Level, Principal, Scope
from civicgrid.core import broadcast
from civicgrid.core.db import Database
from civicgrid.core.errors import Forbidden, InvalidInput
from civicgrid.notifications import service
from civicgrid.notifications.models import Notification


def _principal(db: Database, user_id: int) -> Principal:
    with db.unit_of_work(write=False) as session:
        principal = load_principal(session, user_id)
    assert principal is not None
    return principal


@pytest.fixture
def hub() -> Iterator[broadcast.Broadcaster]:
    hub = broadcast.Broadcaster()
    broadcast.install(hub)
    yield hub
    broadcast.uninstall(hub)
    hub.stop()


def _send(db: Database, user_ids: list[int], title: str = "案件已指派：CG-1", **extra: object) -> list[int]:
    with db.unit_of_work() as session:
        rows = service.notify(
            session,
            user_ids,
            "assignment",
            title,
            "请在1个工作日内受理",
            "case",
            1,
            **extra,  # type: ignore[arg-type]
        )
        return [r.id for r in rows]


def test_notify_adds_one_row_per_account_and_audits_the_sending(db: Database, tiny_city: TinyCity) -> None:
    a1, a2 = tiny_city.users["worker.a1"], tiny_city.users["worker.a2"]
    ids = _send(db, [a1, a2, a1])
    assert len(ids) == 2
    with db.unit_of_work(write=False) as session:
        rows = session.scalars(select(Notification).order_by(Notification.user_id)).all()
        assert [(r.user_id, r.kind, r.object_type, r.object_id, r.read_at) for r in rows] == [
            (a1, "assignment", "case", "1", None),
            (a2, "assignment", "case", "1", None),
        ]
        record = session.scalars(select(AuditRecord).where(AuditRecord.action == "notification.send")).one()
        assert record.details == {"kind": "assignment", "recipients": 2}
        assert "案件" not in str(record.details)  # titles may name people: never in the audit details


def test_notify_refuses_bad_input_whole(db: Database, tiny_city: TinyCity) -> None:
    a1 = tiny_city.users["worker.a1"]
    with db.unit_of_work() as session:
        with pytest.raises(InvalidInput) as bad:
            service.notify(session, [a1], "gossip", "", body="x" * 3000)
        assert {p["field"] for p in bad.value.details} == {"kind", "title", "body"}
        with pytest.raises(InvalidInput, match="unknown accounts"):
            service.notify(session, [a1, 999_999], "system", "系统维护通知")
        assert service.notify(session, [], "system", "无人接收") == []
        assert session.scalar(select(Notification.id)) is None


def test_the_event_reaches_the_recipients_only_after_commit(
    db: Database, tiny_city: TinyCity, hub: broadcast.Broadcaster
) -> None:
    a1 = tiny_city.users["worker.a1"]

    async def scenario() -> list[broadcast.Event]:
        subscription = hub.subscribe()
        with pytest.raises(RuntimeError), db.unit_of_work() as session:
            service.notify(session, [a1], "card", "黄牌督办：CG-2", object_type="case", object_id=2)
            raise RuntimeError("the case action failed")
        with db.unit_of_work() as session:
            service.notify(session, [a1], "card", "红牌督办：CG-3", object_type="case", object_id=3)
            assert await subscription.next(0.05) is None
        events = []
        while (event := await subscription.next(0.05)) is not None:
            events.append(event)
        return events

    (event,) = aio.run(scenario())
    assert event.topic == service.TOPIC
    assert event.payload == {"kind": "card", "title": "红牌督办：CG-3", "object_type": "case", "object_id": "3"}
    assert event.audience.user_ids == {a1}


def test_everyone_lists_counts_and_marks_only_their_own(db: Database, tiny_city: TinyCity) -> None:
    a1, a2 = tiny_city.users["worker.a1"], tiny_city.users["worker.a2"]
    mine = _send(db, [a1]) + _send(db, [a1], "案件被退回：CG-1")
    theirs = _send(db, [a2])
    me, them = _principal(db, a1), _principal(db, a2)
    with db.unit_of_work() as session:
        listed = session.scalars(service.list_notifications(me)).all()
        assert sorted(n.id for n in listed) == sorted(mine)
        assert service.unread_count(session, me) == 2
        # Someone else's id is ignored, not an error; an id twice counts once.
        assert service.mark_read(session, me, [mine[0], mine[0], theirs[0]]) == 1
        assert service.mark_read(session, me, [mine[0]]) == 0  # already read
        assert service.unread_count(session, me) == 1
        assert [n.id for n in session.scalars(service.list_notifications(me, unread_only=True))] == [mine[1]]
        assert service.unread_count(session, them) == 1
        assert service.mark_all_read(session, me) == 1
        assert service.unread_count(session, me) == 0
        assert service.unread_count(session, them) == 1
        actions = session.scalars(select(AuditRecord.details).where(AuditRecord.action == "notification.read")).all()
        assert actions == [{"count": 1}, {"count": 1}]  # marking nothing writes nothing


def test_marking_read_tells_the_accounts_other_screens(
    db: Database, tiny_city: TinyCity, hub: broadcast.Broadcaster
) -> None:
    a1 = tiny_city.users["worker.a1"]
    _send(db, [a1])
    _send(db, [a1])
    me = _principal(db, a1)

    async def scenario() -> list[broadcast.Event]:
        subscription = hub.subscribe(lambda e: e.audience.includes(me))
        with db.unit_of_work() as session:
            service.mark_all_read(session, me)
        event = await subscription.next(0.5)
        assert event is not None
        return [event]

    (event,) = aio.run(scenario())
    assert (event.topic, event.payload) == (service.TOPIC_READ, {"unread": 0})


def test_machine_clients_have_no_notifications(db: Database) -> None:
    machine = Principal(None, "gateway", "grid_worker", frozenset(), Scope("340300", Level.city), api_key_id=3)
    with db.unit_of_work() as session, pytest.raises(Forbidden):
        service.unread_count(session, machine)
