"""Scheduled work of the safety index: every five minutes, count the cases reported since the last run and
recompute the index of every period whose daily counts changed (and of the current periods not yet
computed). Runs in one process at a time (`core.scheduler`); `civicgrid safety recompute` does the same."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from civicgrid.core.db import Database
from civicgrid.core.scheduler import periodic
from civicgrid.safety import index_service

TASK_NAME = "safety.index_recompute"
DEFAULT_EVERY = timedelta(minutes=5)


@periodic(TASK_NAME, every=DEFAULT_EVERY, lease=timedelta(minutes=30))
def recompute_task(database: Database, now: datetime) -> dict[str, Any]:
    return index_service.recompute(database, now).as_dict()
