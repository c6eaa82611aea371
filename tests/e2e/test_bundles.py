"""What each kind of page downloads: the phone pages (/m/) Vant and never Element Plus, the desktop pages
Element Plus and never Vant; and no page asks another origin for anything (the CSP would block it).

Each test uses a fresh browser context (empty cache) signed in by putting a refresh token into
localStorage before the first page load, so the login page (a desktop page) is never loaded first.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlparse

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from tests.e2e.conftest import REPO, screenshot
from tests.e2e.registry_seed import PASSWORD

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


@dataclass
class Traffic:
    origin: str
    urls: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def assets(self, kind: str) -> list[str]:
        return [u for u in self.urls if urlparse(u).path.startswith("/assets/") and urlparse(u).path.endswith(kind)]

    def chunks(self, name: str) -> list[str]:
        return [u for u in self.urls if urlparse(u).path.startswith(f"/assets/{name}-")]

    def weight(self) -> dict[str, int]:
        """Bytes of the JS and CSS loaded (raw and gzip-compressed), from the built files."""
        files = {urlparse(u).path for u in self.assets(".js") + self.assets(".css")}
        out = {"files": len(files), "js": 0, "css": 0, "gzip": 0}
        for path in files:
            data = (REPO / "frontend" / "dist" / path.lstrip("/")).read_bytes()
            out["js" if path.endswith(".js") else "css"] += len(data)
            out["gzip"] += len(gzip.compress(data))
        return out

    def report(self, name: str) -> None:
        """Print what the page loaded and keep it beside the screenshots (artifacts/bundle-<name>.json)."""
        weight = self.weight()
        print(f"{name}: {weight}")
        target = REPO / "artifacts" / f"bundle-{name}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        assets = sorted({urlparse(u).path for u in self.assets(".js") + self.assets(".css")})
        target.write_text(json.dumps({**weight, "assets": assets}, indent=2))

    def foreign(self) -> list[str]:
        return [u for u in self.urls if urlparse(u).scheme in ("http", "https") and not u.startswith(self.origin)]


def refresh_token(server_url: str, username: str) -> str:
    with httpx.Client(base_url=server_url, timeout=10) as client:
        answer = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        answer.raise_for_status()
        token: str = answer.json()["refresh_token"]
        return token


def signed_in_page(
    browser: Browser, server_url: str, username: str, **context_args: object
) -> Iterator[tuple[Page, Traffic]]:
    context = browser.new_context(locale="zh-CN", base_url=server_url, **context_args)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    # Only when absent: the app rotates the token on restore, and a replayed one revokes the session.
    token = json.dumps(refresh_token(server_url, username))
    context.add_init_script(
        "try { if (!localStorage.getItem('civicgrid.refresh_token')) "
        f"localStorage.setItem('civicgrid.refresh_token', {token}) }} catch {{}}"
    )
    page = context.new_page()
    traffic = Traffic(origin=server_url)
    page.on("request", lambda r: traffic.urls.append(r.url))
    page.on("console", lambda m: traffic.console_errors.append(m.text) if m.type == "error" else None)
    try:
        yield page, traffic
    finally:
        context.close()


@pytest.fixture
def phone_traffic(browser: Browser, server_url: str) -> Iterator[tuple[Page, Traffic]]:
    yield from signed_in_page(
        browser, server_url, "gridworker", viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
    )


@pytest.fixture
def desktop_traffic(browser: Browser, server_url: str) -> Iterator[tuple[Page, Traffic]]:
    yield from signed_in_page(browser, server_url, "operator", viewport={"width": 1440, "height": 900})


def test_phone_pages_load_vant_and_no_element_plus(phone_traffic: tuple[Page, Traffic]) -> None:
    page, traffic = phone_traffic
    page.goto("/m/")
    expect(page.get_by_test_id("m-home")).to_be_visible()
    page.get_by_test_id("m-register-person").click()
    page.wait_for_url("**/m/person")
    expect(page.get_by_test_id("m-person")).to_be_visible()
    page.wait_for_load_state("networkidle")
    # Vant's icon font is the embedded one, and it is in use.
    font = page.evaluate(
        "async () => { await document.fonts.ready;"
        " const f = [...document.fonts].find((x) => x.family.replace(/\"/g, '') === 'vant-icon');"
        " return f ? f.status : null }"
    )
    screenshot(page, "mobile-bundle-person")
    traffic.report("mobile")

    assert traffic.chunks("vant"), traffic.urls
    assert any(u.endswith(".css") for u in traffic.chunks("vant"))
    assert traffic.chunks("element-plus") == [], traffic.chunks("element-plus")
    assert not [u for u in traffic.assets(".js") if "DesktopRoot" in u or "AppLayout" in u]
    assert traffic.foreign() == []
    assert [e for e in traffic.console_errors if "Content Security Policy" in e or "font" in e.lower()] == []
    assert font == "loaded"


def test_desktop_pages_load_element_plus_and_no_vant(desktop_traffic: tuple[Page, Traffic]) -> None:
    page, traffic = desktop_traffic
    page.goto("/registry/people")
    expect(page.get_by_test_id("people-table")).to_be_visible()
    page.wait_for_load_state("networkidle")
    traffic.report("desktop-people")
    assert any(u.endswith(".js") for u in traffic.chunks("element-plus"))
    assert any(u.endswith(".css") for u in traffic.chunks("element-plus"))
    assert traffic.chunks("vant") == []
    assert traffic.foreign() == []
