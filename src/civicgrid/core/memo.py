"""A short-lived, process-wide memo for answers many clients ask for at once (the command wall's figures).

`Memo.get(key, compute, ttl)` returns the value computed for `key` less than `ttl` seconds ago, else computes
it — once: concurrent callers of the same key wait for the one computing instead of repeating the work
(twenty screens refreshing together cost one query, not twenty). A `ttl` of 0 computes every time (tests).
Keys must hold everything the answer depends on, the caller's visibility included.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class Memo(Generic[T]):
    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._values: OrderedDict[Hashable, tuple[float, T]] = OrderedDict()
        self._computing: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def _fresh(self, key: Hashable, ttl: float) -> tuple[bool, T | None]:
        with self._lock:
            hit = self._values.get(key)
            if hit is not None and time.monotonic() - hit[0] < ttl:
                return True, hit[1]
            return False, None

    def get(self, key: Hashable, compute: Callable[[], T], ttl: float) -> T:
        if ttl <= 0:
            return compute()
        found, value = self._fresh(key, ttl)
        if found:
            return value  # type: ignore[return-value]
        with self._lock:
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:
            found, value = self._fresh(key, ttl)  # computed by another caller while this one waited
            if found:
                return value  # type: ignore[return-value]
            started = time.monotonic()
            result = compute()
            with self._lock:
                self._values[key] = (started, result)
                self._values.move_to_end(key)
                while len(self._values) > self.size:
                    self._values.popitem(last=False)
                self._computing.pop(key, None)
            return result

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
