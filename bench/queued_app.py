"""civicgrid with write requests queued in the event loop, at most BENCH_WRITE_QUEUE (default 8) at once.

`bench_cases.py --queue-writes N` serves this instead of the stock app to measure the fix it proposes for
the deadlock it found: a sync route's unit of work commits only after FastAPI has validated the response
in the thread pool, so a request holding the write lock (SQLite) or the audit chain's row lock
(PostgreSQL) needs one more worker thread while every thread may be taken by requests waiting for that
lock. Queueing writes before they take a thread keeps threads free for the lock holder.

    uvicorn --factory queued_app:app
"""

from __future__ import annotations

import os
from typing import Any

import anyio

from civicgrid.app import serve_app

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class QueueWrites:
    def __init__(self, inner: Any, limit: int) -> None:
        self.inner = inner
        self.limit = limit
        self.semaphore: anyio.Semaphore | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.inner(scope, receive, send)
            return
        if self.semaphore is None:
            self.semaphore = anyio.Semaphore(self.limit)
        async with self.semaphore:
            await self.inner(scope, receive, send)


def app() -> QueueWrites:
    return QueueWrites(serve_app(), int(os.environ.get("BENCH_WRITE_QUEUE", "8")))
