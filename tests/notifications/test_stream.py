"""The live stream end to end: ticket, Server-Sent Events filtered to the subscriber, heartbeats, shutdown."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.support.api import assert_error, auth_headers
from tests.support.city import CITY, COMMUNITY_A, DISTRICT, GRID_A1, GRID_B1, STREET_A, STREET_B, TinyCity

from civicgrid.authz.scope import Level
from civicgrid.core import clock
from civicgrid.core.broadcast import RESYNC, Audience, Broadcaster, Event
from civicgrid.core.db import Database
from civicgrid.notifications import service, stream

TICKET = "/api/v1/stream/ticket"
AREA_A1 = {
    Level.city: CITY,
    Level.district: DISTRICT,
    Level.street: STREET_A,
    Level.community: COMMUNITY_A,
    Level.grid: GRID_A1,
}
AREA_B1 = {**AREA_A1, Level.street: STREET_B, Level.community: "340303002001", Level.grid: GRID_B1}


@pytest.fixture(autouse=True)
def quick_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    # Something arrives at least every 0.2 s, so a missing event fails the test instead of hanging it.
    monkeypatch.setattr(stream, "HEARTBEAT_SECONDS", 0.2)


def _ticket(client: TestClient, username: str) -> dict[str, Any]:
    response = client.post(TICKET, headers=auth_headers(client, username))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _messages(lines: Iterator[str], wanted: int, max_lines: int = 200) -> Iterator[dict[str, Any]]:
    """The next `wanted` data messages (heartbeats skipped); fails after `max_lines` lines without them."""
    found = 0
    for count, line in enumerate(lines):
        assert count < max_lines, "the expected events did not arrive"
        if line.startswith("data: "):
            yield json.loads(line.removeprefix("data: "))
            found += 1
            if found == wanted:
                return


def _wait_for_subscriber(hub: Broadcaster, count: int = 1) -> None:
    deadline = time.monotonic() + 5
    while hub.subscriber_count != count:
        assert time.monotonic() < deadline, "the stream did not subscribe"
        time.sleep(0.01)


def test_a_ticket_opens_one_stream_that_carries_only_the_subscribers_events(
    client: TestClient, db: Database, tiny_city: TinyCity
) -> None:
    hub: Broadcaster = client.app.state.broadcaster  # type: ignore[attr-defined]
    a1 = tiny_city.users["worker.a1"]
    ticket = _ticket(client, "worker.a1")
    assert ticket["url"] == f"/api/v1/stream?ticket={ticket['ticket']}"

    with client.stream("GET", ticket["url"]) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        lines = response.iter_lines()
        assert next(lines) == f"retry: {stream.RETRY_MILLISECONDS}"
        (ready,) = _messages(lines, 1)
        assert ready == {"topic": "ready", "payload": {"user_id": a1}}
        _wait_for_subscriber(hub)

        # Out of scope (grid B1), for someone else, for a unit not the worker's: none of these arrive.
        hub.publish(Event("case.updated", {"case_id": 2}, Audience.of(areas=[AREA_B1], permission="care:read")))
        hub.publish(Event("notification", {"title": "not yours"}, Audience.of(users=[tiny_city.users["worker.b1"]])))
        hub.publish(Event("case.updated", {"case_id": 3}, Audience.of(units=[tiny_city.units["dept-police"]])))
        # A notification sent through the service (after commit), then an event of the worker's own grid.
        with db.unit_of_work() as session:
            service.notify(session, [a1], "assignment", "案件已指派：CG-1", None, "case", 1)
        hub.publish(Event("case.updated", {"case_id": 1}, Audience.of(areas=[AREA_A1], permission="care:read")))

        received = list(_messages(lines, 2))
        assert received == [
            {
                "topic": "notification",
                "payload": {"kind": "assignment", "title": "案件已指派：CG-1", "object_type": "case", "object_id": "1"},
            },
            {"topic": "case.updated", "payload": {"case_id": 1}},
        ]
    # Leaving the stream unsubscribes it.
    _wait_for_subscriber(hub, 0)

    reused = assert_error(client.get(ticket["url"]), 401, "invalid_ticket")
    assert "already used" in reused["message"] and "POST /api/v1/stream/ticket" in reused["message"]


def test_unknown_expired_and_missing_tickets_are_refused(client: TestClient, tiny_city: TinyCity) -> None:
    assert (
        "unknown"
        in assert_error(client.get("/api/v1/stream?ticket=not-a-real-ticket"), 401, "invalid_ticket")["message"]
    )
    ticket = _ticket(client, "worker.a1")
    clock.advance(timedelta(seconds=service.TICKET_SECONDS + 1))
    assert "expired" in assert_error(client.get(ticket["url"]), 401, "invalid_ticket")["message"]
    assert_error(client.get("/api/v1/stream"), 422, "invalid_input")
    assert_error(client.post(TICKET), 401)


def test_a_stream_beats_while_idle_and_ends_when_the_server_stops(client: TestClient, tiny_city: TinyCity) -> None:
    hub: Broadcaster = client.app.state.broadcaster  # type: ignore[attr-defined]
    ticket = _ticket(client, "district.operator")
    with client.stream("GET", ticket["url"]) as response:
        lines = response.iter_lines()
        list(_messages(lines, 1))
        _wait_for_subscriber(hub)
        assert ": keep-alive" in [next(lines) for _ in range(4)]
        hub._resync_all()  # what the PostgreSQL listener does after reconnecting
        (resync,) = _messages(lines, 1)
        assert resync["topic"] == RESYNC
        hub.stop()  # what the app's shutdown does: the stream ends instead of holding the server up
        rest = list(lines)
    assert all(line in ("", ": keep-alive") for line in rest)
