"""At most N write requests in the thread pool at once.

A sync route runs in FastAPI's thread pool in several hops (dependencies, the route, response
validation, the unit of work's commit). A request holding the database's write lock — SQLite's, or the
audit chain's head row on PostgreSQL — needs a free thread for each hop, while the other writers wait
for that lock *inside* pool threads. With enough concurrent writers every thread is taken by a waiter
and the lock holder never gets its next thread: a deadlock that ends only when the waiters' lock
timeouts fail them (found by bench/bench_cases.py at 50 concurrent reporters). Queueing writes in the
event loop, before they take a thread, keeps threads free for the holder; reads are never queued.
"""

from __future__ import annotations

from typing import Any

import anyio

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class WriteGate:
    """ASGI middleware letting at most `limit` write requests (by HTTP method) proceed at once."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._semaphore: anyio.Semaphore | None = None  # made in the running loop, on first use

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        if self._semaphore is None:
            self._semaphore = anyio.Semaphore(self.limit)
        async with self._semaphore:
            await self.app(scope, receive, send)
