"""The write gate lets at most N write requests through at once and never holds reads."""

from __future__ import annotations

from typing import Any

import anyio
from tests.support import aio

from civicgrid.core.writegate import WriteGate


class Recorder:
    """An ASGI app that counts how many requests of each kind are inside it at once."""

    def __init__(self) -> None:
        self.inside = {"GET": 0, "POST": 0}
        self.most = {"GET": 0, "POST": 0}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = "GET" if scope["method"] == "GET" else "POST"
        self.inside[kind] += 1
        self.most[kind] = max(self.most[kind], self.inside[kind])
        await anyio.sleep(0.02)
        self.inside[kind] -= 1


def test_writes_queue_and_reads_pass() -> None:
    inner = Recorder()
    gate = WriteGate(inner, limit=2)

    async def scenario() -> None:
        async with anyio.create_task_group() as group:
            for method in ["POST", "PATCH", "DELETE", "PUT", "POST"] + ["GET"] * 5:
                group.start_soon(gate, {"type": "http", "method": method}, None, None)

    aio.run(scenario(), 10)
    assert inner.most["POST"] == 2  # five writers, two at a time
    assert inner.most["GET"] == 5  # reads are never queued


def test_the_app_installs_the_gate_with_the_configured_limit(client: Any) -> None:
    gates = [m for m in client.app.user_middleware if m.cls is WriteGate]
    assert len(gates) == 1 and gates[0].kwargs["limit"] == client.app.state.settings.write_concurrency
