"""Running a coroutine from a synchronous test.

`asyncio.run` refuses to start when the calling thread already runs a loop — which it does in an xdist
worker that has driven Playwright's sync API earlier (its loop stays running on the main thread). A
fresh thread always has no loop, so tests run their coroutines there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coroutine, timeout)

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, bounded()).result()
