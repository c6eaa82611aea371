"""The live update stream: Server-Sent Events of the events whose audience includes you.

EventSource cannot send an Authorization header, so a signed-in client first asks for a one-time
ticket (`POST /stream/ticket`, valid 60 s) and opens `GET /stream?ticket=…` with it. Every message is
`data: {"topic": …, "payload": …}` (never the audience): first `ready`, then the events; `resync` means
events were lost (a slow connection, or the server's listener reconnected) and the screen should
re-read what it shows. A comment line every 15 s keeps proxies from closing an idle stream; the stream
ends after the access-token lifetime (or when the server stops), and the client reconnects with a new
ticket — which also re-checks the account and its scope.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from civicgrid.auth.deps import PrincipalDep
from civicgrid.authz.scope import Principal
from civicgrid.core.broadcast import Broadcaster, Event
from civicgrid.core.db import Database
from civicgrid.core.web import SessionDep
from civicgrid.notifications import service
from civicgrid.notifications.schemas import TicketOut

router = APIRouter(prefix="/stream", tags=["live"])

HEARTBEAT_SECONDS = 15.0
RETRY_MILLISECONDS = 3000
STREAM_PATH = "/api/v1/stream"


def sse_message(topic: str, payload: dict[str, object]) -> str:
    return "data: " + json.dumps({"topic": topic, "payload": payload}, ensure_ascii=False, default=str) + "\n\n"


async def sse_events(
    broadcaster: Broadcaster, principal: Principal, *, lifetime_seconds: float, heartbeat_seconds: float | None = None
) -> AsyncIterator[str]:
    """The stream of one connection: what reaches `principal`, with heartbeats, until the lifetime ends."""
    heartbeat = heartbeat_seconds or HEARTBEAT_SECONDS

    def reaches(event: Event) -> bool:
        return event.audience.includes(principal)

    async with broadcaster.subscribe(reaches) as subscription:
        yield f"retry: {RETRY_MILLISECONDS}\n" + sse_message("ready", {"user_id": principal.user_id})
        deadline = time.monotonic() + lifetime_seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = await subscription.next(timeout=min(heartbeat, left))
            except StopAsyncIteration:  # the server is stopping
                return
            yield ": keep-alive\n\n" if event is None else sse_message(event.topic, event.payload)


@router.post("/ticket", operation_id="stream_ticket", response_model=TicketOut)
def ticket(session: SessionDep, principal: PrincipalDep) -> TicketOut:
    """A one-time ticket (60 s) for opening your live stream with EventSource."""
    value, expires = service.issue_ticket(session, principal)
    return TicketOut(ticket=value, expires_at=expires, url=f"{STREAM_PATH}?ticket={value}")


def _redeem(database: Database, ticket: str) -> Principal:
    # Its own short write transaction: the stream must not hold a session (or SQLite's write lock) open.
    with database.unit_of_work() as session:
        return service.redeem_ticket(session, ticket)


@router.get(
    "",
    operation_id="stream_open",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": 'Server-Sent Events: `data: {"topic", "payload"}` per event; comments as heartbeats',
        }
    },
)
async def open_stream(
    request: Request,
    ticket: Annotated[str, Query(min_length=8, max_length=200, description="from POST /api/v1/stream/ticket")],
) -> StreamingResponse:
    """Your live updates (new notifications, changes of cases in your scope) as Server-Sent Events.

    401 `invalid_ticket` when the ticket is unknown, already used or expired: get a new one.
    """
    principal = await run_in_threadpool(_redeem, request.app.state.db, ticket)
    lifetime = request.app.state.settings.access_token_minutes * 60
    return StreamingResponse(
        sse_events(request.app.state.broadcaster, principal, lifetime_seconds=lifetime),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
