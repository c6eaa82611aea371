"""FastAPI glue shared by every module: the request's unit of work and the client's address."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from civicgrid.core.db import Database

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def get_database(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


def get_session(request: Request) -> Iterator[Session]:
    """One session per request: commits once after the route returned, rolls back on any error."""
    with get_database(request).unit_of_work(write=request.method in WRITE_METHODS) as session:
        yield session


def get_write_session(request: Request) -> Iterator[Session]:
    """A write session even for a GET: for reads that write (audited reads of sensitive data).

    On SQLite a read transaction cannot become a write transaction once another connection has
    committed, so such routes must take the write lock at BEGIN and queue like any writer.
    """
    with get_database(request).unit_of_work(write=True) as session:
        yield session


# scope="function": the unit of work commits before the response is sent, so a client that got a
# success can read its own write at once, and a failed commit answers as an error, not a lost 200.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
WriteSessionDep = Annotated[Session, Depends(get_write_session, scope="function")]
DatabaseDep = Annotated[Database, Depends(get_database)]


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None
