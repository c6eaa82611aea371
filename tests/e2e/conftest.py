"""End-to-end fixtures: a demo server built from scratch, and Debian's Chromium driven by Playwright.

The server runs the real `civicgrid demo` and `civicgrid serve` commands in a temporary data directory
with the built UI from frontend/dist. Screenshots go to artifacts/screenshots/ (kept by CI).
Outside CI a missing Chromium or UI build skips these tests; in CI (CI=true) it fails them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
E2E_SCALE = "0.01"


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"end-to-end prerequisites missing in CI: {reason}")
    pytest.skip(reason)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)
            # One server and one browser for all of them: keep them on one xdist worker.
            item.add_marker(pytest.mark.xdist_group("e2e"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.environ.get("CIVICGRID_TEST_DATABASE", "sqlite") != "sqlite":
        pytest.skip("the end-to-end tests run in the SQLite half of the suite")
    if not (REPO / "frontend" / "dist" / "index.html").is_file():
        _missing("the UI is not built (run `make frontend`)")
    data_dir = tmp_path_factory.mktemp("e2e-city")
    env = {
        **os.environ,
        "CIVICGRID_MODE": "demo",
        "CIVICGRID_DATA_DIR": str(data_dir),
        "CIVICGRID_LOG_LEVEL": "WARNING",
        # Every test signs in (through the UI and the API) from 127.0.0.1: more than the default 30 logins
        # a minute per address. The limiter itself is tested in tests/auth.
        "CIVICGRID_LOGIN_RATE_PER_MINUTE": "600",
    }
    env.pop("CIVICGRID_DATABASE_URL", None)
    cli = [sys.executable, "-m", "civicgrid"]
    subprocess.run([*cli, "demo", "--scale", E2E_SCALE], env=env, check=True, cwd=REPO, capture_output=True)
    port = _free_port()
    log = (data_dir / "server.log").open("w")
    process = subprocess.Popen([*cli, "serve", "--port", str(port)], env=env, cwd=REPO, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        # 60 s: the app starts in a few seconds, but a machine busy with other test runs can take much longer.
        for _ in range(300):
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                pytest.fail(f"the server exited: {(data_dir / 'server.log').read_text()[-2000:]}")
            time.sleep(0.2)
        else:
            pytest.fail("the server did not become ready in 60 s")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        _missing("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: object, server_url: str) -> Iterator[object]:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", base_url=server_url)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


def screenshot(page: object, name: str) -> Path:
    """Save a full-page screenshot as an artefact and return its path."""
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # Finished transitions: a progress bar or a fading tag shows its final state, as a person sees it.
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path
