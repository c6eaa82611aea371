"""Code tables: loaded once from resources/registry/codes.csv, editable by admins, checked on every write."""

from __future__ import annotations

import csv
import threading
from collections.abc import Mapping
from importlib import resources
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from civicgrid.core.errors import InvalidInput
from civicgrid.registry.models import CodeEntry

_cache_lock = threading.Lock()
_cache: dict[str, dict[str, dict[str, str]]] | None = None


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
    global _cache
    with _cache_lock:
        if _cache is None:
            loaded: dict[str, dict[str, dict[str, str]]] = {}
            rows = session.execute(
                select(CodeEntry.table, CodeEntry.code, CodeEntry.label_zh, CodeEntry.label_en)
                .where(CodeEntry.active.is_(True))
                .order_by(CodeEntry.table, CodeEntry.sort)
            )
            for table, code, zh, en in rows:
                loaded.setdefault(table, {})[code] = {"label_zh": zh, "label_en": en}
            _cache = loaded
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
