"""Code tables: loaded once from resources/registry/codes.csv, editable by admins, checked on every write."""

from __future__ import annotations

import csv
import threading
import time
from collections.abc import Mapping
from importlib import resources
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from civicgrid.core.errors import InvalidInput
from civicgrid.registry.models import CodeEntry

_cache_lock = threading.Lock()
_cache: dict[str, dict[str, dict[str, str]]] | None = None
_cached_at = 0.0
# Edits reach other server processes within this many seconds (the editing process sees them at once).
CACHE_SECONDS = 60.0


# The longest code each table may hold: the width of the columns that store its codes.
MAX_CODE_LENGTH: dict[str, int] = {
    "sex": 2,
    "ethnicity": 4,
    "marital_status": 4,
    "political_status": 4,
    "education": 4,
    "religion": 4,
    "relation": 4,
    "move_in_reason": 4,
    "permit_type": 4,
    "residence_type": 4,
    "document_type": 4,
    "attention_level": 10,
    "risk_level": 10,
    "hazard_level": 10,
    "visit_form": 10,
    "person_type": 12,
    "house_use": 20,
    "org_type": 20,
    "place_type": 20,
    "school_type": 20,
    "line_type": 20,
    "care_group": 20,
}


def default_entries() -> list[dict[str, Any]]:
    text = resources.files("civicgrid.resources.registry").joinpath("codes.csv").read_text(encoding="utf-8")
    return [
        {
            "table": r["table"],
            "code": r["code"],
            "label_zh": r["label_zh"],
            "label_en": r["label_en"],
            "sort": int(r["sort"]),
            "active": True,
        }
        for r in csv.DictReader(text.splitlines())
    ]


def load_defaults(session: Session) -> int:
    """Load the default code tables into an empty `registry_code` (a no-op when it holds any entry)."""
    if session.scalar(select(func.count()).select_from(CodeEntry)):
        return 0
    entries = default_entries()
    session.execute(insert(CodeEntry), entries)
    invalidate()
    return len(entries)


def invalidate() -> None:
    global _cache
    with _cache_lock:
        _cache = None


def tables(session: Session) -> Mapping[str, Mapping[str, Mapping[str, str]]]:
    """table → code → {label_zh, label_en} for active entries (cached in the process)."""
    global _cache, _cached_at
    with _cache_lock:
        if _cache is None or time.monotonic() - _cached_at > CACHE_SECONDS:
            loaded: dict[str, dict[str, dict[str, str]]] = {}
            rows = session.execute(
                select(CodeEntry.table, CodeEntry.code, CodeEntry.label_zh, CodeEntry.label_en)
                .where(CodeEntry.active.is_(True))
                .order_by(CodeEntry.table, CodeEntry.sort)
            )
            for table, code, zh, en in rows:
                loaded.setdefault(table, {})[code] = {"label_zh": zh, "label_en": en}
            _cache, _cached_at = loaded, time.monotonic()
        return _cache


def problems(session: Session, values: Mapping[str, tuple[str, str | None]]) -> list[dict[str, str]]:
    """For field → (table, value): every value that is not an active code of its table."""
    known = tables(session)
    found = []
    for field, (table, value) in values.items():
        if value is None or value == "":
            continue
        if value not in known.get(table, {}):
            allowed = ", ".join(list(known.get(table, {}))[:12])
            found.append({"field": field, "problem": f"{value!r} is not a code of {table} (e.g. {allowed})"})
    return found


def check(session: Session, values: Mapping[str, tuple[str, str | None]]) -> None:
    found = problems(session, values)
    if found:
        raise InvalidInput("; ".join(f"{p['field']}: {p['problem']}" for p in found), details=found)
