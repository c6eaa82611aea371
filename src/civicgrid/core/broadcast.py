"""Live updates: events published by requests and jobs, fanned out to every open stream (DESIGN.md §3).

An `Event` is a topic, a small JSON payload and an `Audience`: the accounts, the areas (codes per
level, matched against each subscriber's scope with `authz.policy.in_scope`) and the organisation units
it concerns. Payloads are signals, not records: ids and a short title, from which a client re-reads
what it shows through the API (which applies its own permission checks).

`Broadcaster.publish` may be called from any thread (sync request code runs in worker threads);
`subscribe()` is called in the event loop and gives an async iterator with a bounded queue. A consumer
that falls behind loses its oldest events and receives a `resync` event first, telling it to re-read.

Two backends, chosen from the database URL by `broadcaster_for`:

- in-process (SQLite, one process): `publish` hands the event to this process's subscribers;
- PostgreSQL: `publish` sends `NOTIFY civicgrid_events`, and one listener thread per process (one
  dedicated connection doing `LISTEN`) hands every notification to that process's subscribers, so
  every API worker sees every event. NOTIFY payloads must stay under 8,000 bytes: an event whose JSON
  exceeds 7,900 bytes is first cut to its ids (see `ids_only`, marked `"truncated": true`), and an
  audience still too large is split over several notifications.

Events of a request must leave only once its transaction committed: use `publish_after_commit`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Self

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from civicgrid.authz.policy import in_scope
from civicgrid.authz.scope import Level, Principal
from civicgrid.core.db import Database, after_commit

log = logging.getLogger(__name__)

RESYNC = "resync"
DEFAULT_QUEUE_SIZE = 256
PG_CHANNEL = "civicgrid_events"
PG_PAYLOAD_LIMIT = 7900  # PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more
_KEPT_WHEN_TRUNCATED = frozenset({"id", "kind", "action", "status", "topic"})

AreaCodes = Mapping[Level, str | None]
Accept = Callable[["Event"], bool]


@dataclass(frozen=True)
class Audience:
    """Who receives an event: any listed account, anyone whose scope holds one of the areas, anyone of a unit.

    `permission`, when set, is required for the area and unit matches (a resident whose community
    holds a case does not receive the case's events); listed accounts always receive the event.
    """

    user_ids: frozenset[int] = frozenset()
    areas: tuple[AreaCodes, ...] = ()
    unit_ids: frozenset[int] = frozenset()
    permission: str | None = None

    @classmethod
    def of(
        cls,
        *,
        users: Iterable[int] = (),
        areas: Iterable[AreaCodes] = (),
        units: Iterable[int] = (),
        permission: str | None = None,
    ) -> Self:
        return cls(frozenset(users), tuple(areas), frozenset(units), permission)

    def includes(self, principal: Principal) -> bool:
        if principal.user_id is not None and principal.user_id in self.user_ids:
            return True
        if self.permission is not None and not principal.can(self.permission):
            return False
        if any(in_scope(principal, area) for area in self.areas):
            return True
        units = {u for u in (principal.unit_id, principal.scope.department_id) if u is not None}
        return not units.isdisjoint(self.unit_ids)

    def size(self) -> int:
        return len(self.user_ids) + len(self.areas) + len(self.unit_ids)

    def halves(self) -> tuple[Audience, Audience]:
        """Two audiences that together hold this one's members (to split an oversized notification)."""
        members: list[tuple[str, Any]] = [
            *(("u", u) for u in sorted(self.user_ids)),
            *(("a", a) for a in self.areas),
            *(("d", d) for d in sorted(self.unit_ids)),
        ]
        middle = len(members) // 2
        return self._from_members(members[:middle]), self._from_members(members[middle:])

    def _from_members(self, members: list[tuple[str, Any]]) -> Audience:
        return Audience(
            frozenset(v for k, v in members if k == "u"),
            tuple(v for k, v in members if k == "a"),
            frozenset(v for k, v in members if k == "d"),
            self.permission,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "users": sorted(self.user_ids),
            "areas": [{str(level): code for level, code in area.items()} for area in self.areas],
            "units": sorted(self.unit_ids),
            "permission": self.permission,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            frozenset(int(u) for u in data.get("users", ())),
            tuple({Level(level): code for level, code in area.items()} for area in data.get("areas", ())),
            frozenset(int(d) for d in data.get("units", ())),
            data.get("permission"),
        )


@dataclass(frozen=True, eq=False)
class Event:
    """Something happened that open screens may want to show; `payload` is JSON and holds no secrets."""

    topic: str
    payload: dict[str, Any] = field(default_factory=dict)
    audience: Audience = field(default_factory=Audience)

    def to_json(self) -> str:
        body = {"topic": self.topic, "payload": self.payload, "audience": self.audience.to_json()}
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)

    @classmethod
    def from_json(cls, raw: str) -> Event:
        data = json.loads(raw)
        return cls(str(data["topic"]), dict(data.get("payload") or {}), Audience.from_json(data.get("audience") or {}))


def ids_only(payload: Mapping[str, Any]) -> dict[str, Any]:
    """What survives of an oversized payload: `id`, `*_id`, `*_ids`, `*_type`, kind, action, status and topic
    (short scalar values or lists of ids only), plus `"truncated": true`."""
    kept: dict[str, Any] = {"truncated": True}
    for key, value in payload.items():
        if not (key in _KEPT_WHEN_TRUNCATED or key.endswith(("_id", "_ids", "_type"))):
            continue
        if _small(value):
            kept[key] = value
    return kept


def _small(value: Any) -> bool:
    if isinstance(value, bool | int | float) or value is None:
        return True
    if isinstance(value, str):
        return len(value) <= 100
    return isinstance(value, list) and len(value) <= 100 and all(isinstance(v, int | str) for v in value)


def postgres_messages(event: Event, limit: int = PG_PAYLOAD_LIMIT) -> list[str]:
    """The NOTIFY payloads that carry `event`: one, or several when its audience is too large for one."""
    message = event.to_json()
    if len(message.encode()) <= limit:
        return [message]
    if "truncated" not in event.payload:
        return postgres_messages(replace(event, payload=ids_only(event.payload)), limit)
    if event.audience.size() <= 1:
        raise ValueError(f"event {event.topic!r} cannot be sent in {limit} bytes even cut to its ids")
    first, second = event.audience.halves()
    return postgres_messages(replace(event, audience=first), limit) + postgres_messages(
        replace(event, audience=second), limit
    )


def notify_postgres(engine: Engine, event: Event, channel: str = PG_CHANNEL) -> None:
    """Send `event` to every listening process, in one short transaction of its own."""
    notify_channel(engine, channel, postgres_messages(event))


def notify_channel(engine: Engine, channel: str, messages: Iterable[str]) -> None:
    with engine.begin() as conn:
        for message in messages:
            conn.execute(text("SELECT pg_notify(:channel, :message)"), {"channel": channel, "message": message})


class Subscription:
    """One consumer's bounded queue of events; an async iterator (and async context manager).

    Created in the event loop by `Broadcaster.subscribe`; `offer` may be called from any thread.
    """

    def __init__(self, broadcaster: Broadcaster, accept: Accept | None, max_queue: int) -> None:
        self._broadcaster = broadcaster
        self._accept = accept
        self._max = max_queue
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._lock = threading.Lock()
        self._items: deque[Event] = deque()
        self._dropped = 0
        self._resync_pending = False
        self._closed = False

    @property
    def dropped(self) -> int:
        """Events this consumer lost by falling behind (since it subscribed)."""
        return self._dropped

    def offer(self, event: Event) -> None:
        """Queue `event` if this consumer accepts it; a full queue drops its oldest event."""
        if self._accept is not None and event.topic != RESYNC and not self._accept(event):
            return
        with self._lock:
            if self._closed:
                return
            if len(self._items) >= self._max:
                self._items.popleft()
                self._dropped += 1
                self._resync_pending = True
            self._items.append(event)
        self._signal()

    def close(self) -> None:
        """End the iteration (after the events already queued)."""
        with self._lock:
            self._closed = True
        self._signal()

    def _signal(self) -> None:
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            self._loop.call_soon_threadsafe(self._wake.set)

    async def next(self, timeout: float | None = None) -> Event | None:
        """The next event; None when `timeout` seconds pass without one; StopAsyncIteration once closed."""
        while True:
            with self._lock:
                if self._resync_pending:
                    self._resync_pending = False
                    return Event(RESYNC, {"dropped": self._dropped})
                if self._items:
                    return self._items.popleft()
                if self._closed:
                    raise StopAsyncIteration
                self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                return None

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Event:
        event = await self.next()
        assert event is not None
        return event

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.unsubscribe()

    def unsubscribe(self) -> None:
        self.close()
        self._broadcaster._remove(self)


_delivered = itertools.count(1)
_last_delivered = 0


def events_delivered() -> int:
    """A number that changes whenever an event (of any topic, from any process) reaches this process: part
    of the key of an answer kept for a while that must not outlive the change an event announces."""
    return _last_delivered


class Broadcaster:
    """The in-process backend: events go to this process's subscribers."""

    backend = "memory"

    def __init__(self, *, max_queue: int = DEFAULT_QUEUE_SIZE) -> None:
        self.max_queue = max_queue
        self._lock = threading.Lock()
        self._subscribers: set[Subscription] = set()
        self._stopped = False

    def start(self) -> None:
        """Begin (the in-process backend has nothing to start)."""

    def stop(self) -> None:
        """End every subscription (open streams finish) and refuse new ones."""
        with self._lock:
            self._stopped = True
            subscribers = list(self._subscribers)
            self._subscribers.clear()
        for subscription in subscribers:
            subscription.close()

    @property
    def stopped(self) -> bool:
        return self._stopped

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def subscribe(self, accept: Accept | None = None, *, max_queue: int | None = None) -> Subscription:
        """A new consumer (call in the event loop); `accept` filters events (None: every event)."""
        subscription = Subscription(self, accept, max_queue or self.max_queue)
        with self._lock:
            if self._stopped:
                subscription.close()
            else:
                self._subscribers.add(subscription)
        return subscription

    def publish(self, event: Event) -> None:
        """Send `event` to every subscriber whose filter accepts it (thread-safe, never blocks on consumers)."""
        self._deliver(event)

    def _deliver(self, event: Event) -> None:
        global _last_delivered
        _last_delivered = next(_delivered)
        with self._lock:
            subscribers = list(self._subscribers)
        for subscription in subscribers:
            try:
                subscription.offer(event)
            except Exception:
                log.exception("a live-update subscriber refused an event of topic %s", event.topic)

    def _resync_all(self) -> None:
        self._deliver(Event(RESYNC, {"reason": "reconnected"}))

    def _remove(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscribers.discard(subscription)


class PostgresBroadcaster(Broadcaster):
    """PostgreSQL LISTEN/NOTIFY: every process's listener receives what any process publishes."""

    backend = "postgresql"

    def __init__(
        self,
        engine: Engine,
        *,
        channel: str = PG_CHANNEL,
        max_queue: int = DEFAULT_QUEUE_SIZE,
        poll_seconds: float = 2.0,
    ) -> None:
        super().__init__(max_queue=max_queue)
        self.engine = engine
        self.channel = channel
        self.poll_seconds = poll_seconds
        self._conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._halt = threading.Event()
        # A channel only this listener hears: `stop` wakes it there instead of waiting for the next poll.
        self._wake_channel = f"{channel}_wake_{uuid.uuid4().hex[:16]}"
        self._listening = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, wait_seconds: float = 5.0) -> None:
        """Start the listener thread and wait (up to `wait_seconds`) until it listens."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._listen_forever, name="civicgrid-listen", daemon=True)
        self._thread.start()
        if not self._listening.wait(wait_seconds):
            log.warning("the live-update listener is not connected yet; it keeps trying")

    def wait_listening(self, timeout: float) -> bool:
        return self._listening.wait(timeout)

    def stop(self) -> None:
        self._halt.set()
        if self._thread is not None:
            with contextlib.suppress(Exception):  # unreachable database: the listener sees the halt at its next poll
                notify_channel(self.engine, self._wake_channel, [""])
            self._thread.join(timeout=5 * self.poll_seconds + 5)
            self._thread = None
        super().stop()

    def publish(self, event: Event) -> None:
        """NOTIFY every process (this one included, through its listener)."""
        notify_postgres(self.engine, event, self.channel)

    def _listen_forever(self) -> None:
        import psycopg

        backoff = 0.5
        connected_before = False
        while not self._halt.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    conn.execute(f'LISTEN "{self.channel}"')
                    conn.execute(f'LISTEN "{self._wake_channel}"')
                    self._listening.set()
                    backoff = 0.5
                    if connected_before:
                        # Notifications sent while we were away are lost: tell every screen to re-read.
                        self._resync_all()
                    connected_before = True
                    while not self._halt.is_set():
                        for notification in conn.notifies(timeout=self.poll_seconds):
                            if notification.channel == self._wake_channel:
                                break
                            self._receive(notification.payload)
            except Exception as exc:  # a lost connection (psycopg.Error) or anything else: start over
                self._listening.clear()
                log.warning("live-update listener stopped (%s); reconnecting", type(exc).__name__)
                self._halt.wait(backoff)
                backoff = min(backoff * 2, 30.0)
        self._listening.clear()

    def _receive(self, raw: str) -> None:
        try:
            event = Event.from_json(raw)
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed live-update notification on %s", self.channel)
            return
        self._deliver(event)


def broadcaster_for(database: Database, *, max_queue: int = DEFAULT_QUEUE_SIZE) -> Broadcaster:
    """The backend that fits the database: LISTEN/NOTIFY on PostgreSQL, in-process otherwise."""
    if database.engine.dialect.name == "postgresql":
        return PostgresBroadcaster(database.engine, max_queue=max_queue)
    return Broadcaster(max_queue=max_queue)


# -- the process's broadcaster -----------------------------------------------------------------------------

_current_lock = threading.Lock()
_current: Broadcaster | None = None


def install(broadcaster: Broadcaster) -> None:
    """Make `broadcaster` the one `publish_after_commit` uses in this process (the app does it at start-up)."""
    global _current
    with _current_lock:
        _current = broadcaster


def uninstall(broadcaster: Broadcaster) -> None:
    global _current
    with _current_lock:
        if _current is broadcaster:
            _current = None


def current() -> Broadcaster | None:
    with _current_lock:
        return _current


def publish_now(event: Event, engine: Engine | None = None) -> None:
    """Publish through the process's broadcaster; a process without one (a job runner, a command) on
    PostgreSQL still NOTIFYs the API workers through `engine`. Failures are logged, never raised: the
    data is committed and screens re-read it on their next resync or load."""
    try:
        broadcaster = current()
        if broadcaster is not None:
            broadcaster.publish(event)
        elif engine is not None and engine.dialect.name == "postgresql":
            notify_postgres(engine, event)
    except Exception:
        log.exception("could not publish a live update of topic %s", event.topic)


def publish_after_commit(session: Session, event: Event) -> None:
    """Publish `event` once `session` has committed (never for a transaction that rolled back)."""
    engine = session.get_bind().engine
    after_commit(session, lambda: publish_now(event, engine))
