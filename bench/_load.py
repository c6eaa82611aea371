"""A small closed-loop load generator: N concurrent clients on loopback, latency percentiles."""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx


@dataclass(frozen=True)
class LoadResult:
    name: str
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def line(self) -> str:
        return (
            f"{self.name:<34} {self.rps:>8.1f} req/s   p50 {self.p50_ms:>7.2f} ms   p99 {self.p99_ms:>7.2f} ms"
            f"   ({self.requests} requests, {self.errors} errors)"
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serve(args: list[str], env: dict[str, str], ready_url: str, cwd: Path) -> Iterator[None]:
    process = subprocess.Popen(
        args, env={**os.environ, **env}, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        for _ in range(200):
            try:
                if httpx.get(ready_url, timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode() if process.stderr else "server exited")
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def run_load(
    name: str, concurrency: int, total: int, make_request: Callable[[httpx.AsyncClient, int], Any]
) -> LoadResult:
    latencies: list[float] = []
    errors = 0

    async def main() -> float:
        nonlocal errors
        counter = iter(range(total))
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:

            async def worker() -> None:
                nonlocal errors
                for i in counter:
                    started = time.perf_counter()
                    response = await make_request(client, i)
                    latencies.append(time.perf_counter() - started)
                    if response.status_code >= 400:
                        errors += 1

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return time.perf_counter() - started

    seconds = asyncio.run(main())
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return LoadResult(name, len(latencies), errors, seconds, statistics.median(ordered) * 1000, p99 * 1000)


def python() -> str:
    return sys.executable


@contextmanager
def demo_data_dir(given: Path | None, scale: str = "0.05") -> Iterator[Path]:
    """`given`, or a demo city built for the run in a temporary directory (so `make bench` needs no setup)."""
    if given is not None:
        yield given
        return
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print(f"building a demo city at scale {scale} in {tmp} (give --data-dir to use one of yours)", flush=True)
        subprocess.run(
            [python(), "-m", "civicgrid", "demo", "--scale", scale, "--reset"],
            env={**os.environ, "CIVICGRID_MODE": "demo", "CIVICGRID_DATA_DIR": tmp},
            cwd=Path(__file__).resolve().parents[1],
            check=True,
            capture_output=True,
        )
        yield Path(tmp)
