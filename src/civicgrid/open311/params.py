"""Reading Open311 parameters: an empty parameter equals an absent one; bad values are 400s that say why."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, time, tzinfo

from civicgrid.core.clock import as_utc
from civicgrid.core.errors import InvalidInput


def _bad(name: str, message: str) -> InvalidInput:
    return InvalidInput(message, details=[{"field": name, "problem": message}])


def text(values: Mapping[str, str], name: str, *, max_length: int | None = None) -> str | None:
    value = (values.get(name) or "").strip()
    if not value:
        return None
    if max_length is not None and len(value) > max_length:
        raise _bad(name, f"{name} is longer than {max_length} characters ({len(value)})")
    return value


def integer(values: Mapping[str, str], name: str, *, default: int, low: int, high: int) -> int:
    raw = text(values, name)
    if raw is None:
        return default
    try:
        number = int(raw)
    except ValueError:
        raise _bad(name, f"{name} must be a whole number, not {raw[:40]!r}") from None
    if not low <= number <= high:
        raise _bad(name, f"{name} must be from {low} to {high}")
    return number


def number(values: Mapping[str, str], name: str) -> float | None:
    raw = text(values, name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise _bad(name, f"{name} must be a decimal number (WGS84 degrees), not {raw[:40]!r}") from None
    if not math.isfinite(value):
        raise _bad(name, f"{name} must be a finite number")
    return value


def words(values: Mapping[str, str], name: str, *, limit: int = 1000) -> list[str]:
    """A comma-separated list (empty items dropped, order kept, no repeats)."""
    raw = text(values, name)
    if raw is None:
        return []
    items = list(dict.fromkeys(item.strip() for item in raw.split(",") if item.strip()))
    if len(items) > limit:
        raise _bad(name, f"{name} lists {len(items)} values; at most {limit} are allowed")
    return items


def flag(values: Mapping[str, str], name: str) -> bool:
    raw = (text(values, name) or "false").lower()
    if raw not in ("true", "false", "1", "0"):
        raise _bad(name, f"{name} is true or false, not {raw[:20]!r}")
    return raw in ("true", "1")


def moment(values: Mapping[str, str], name: str, tz: tzinfo, *, end_of_day: bool = False) -> datetime | None:
    """An ISO 8601 time (a bare date is that day's start, or its end for `end_of_day`), as UTC.

    A time without an offset is read in the platform's time zone (Asia/Shanghai by default).
    """
    raw = text(values, name)
    if raw is None:
        return None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            parsed = datetime.combine(day, time.max if end_of_day else time.min)
        else:
            parsed = datetime.fromisoformat(raw.replace(" ", "+") if raw.count(" ") == 1 else raw)
    except ValueError:
        example = "2026-05-01T08:30:00+08:00"
        raise _bad(name, f"{name} must be an ISO 8601 time such as {example}, not {raw[:40]!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return as_utc(parsed)
