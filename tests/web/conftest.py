"""Fixtures for the web interface: the small world on SQLite, a signed-in test
client, and (for browser tests) the site served by uvicorn on a free port with
Debian's headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from resguardo.services.app import Resguardo
from resguardo.web import create_site

from world import PASSWORD, build_world, do, make_app

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def sqlite_world(clock, tmp_path, world_templates, sqlite_url) -> Resguardo:  # type: ignore[no-untyped-def]
    """The world of tests/world.py on SQLite only (copied from the session's template)."""
    if "sqlite" not in world_templates:
        path = tmp_path.parent / "world-template.db"
        app = build_world(f"sqlite:///{path}", clock, tmp_path)
        app.engine.dispose()
        world_templates["sqlite"] = path
    shutil.copy(world_templates["sqlite"], sqlite_url.split("///", 1)[1])
    return make_app(sqlite_url, clock, tmp_path)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


class Browser:
    """A test client that signs in like a person does."""

    def __init__(self, app: Resguardo, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.client = TestClient(create_site(app), follow_redirects=True, **kwargs)

    def sign_in(self, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
        page = self.client.get("/login")
        return self.client.post("/login", data={"csrf": csrf_of(page.text),
                                                 "username": username, "password": password})

    def get(self, url: str, **kw):  # type: ignore[no-untyped-def]
        return self.client.get(url, **kw)

    def post(self, url: str, data: dict | None = None, *, page: str | None = None,
             **kw):  # type: ignore[no-untyped-def]
        """Submit a form found on ``page`` (default: the same URL), token included."""
        html = self.client.get(page or url).text
        return self.client.post(url, data={"csrf": csrf_of(html), **(data or {})}, **kw)


@pytest.fixture
def web(sqlite_world) -> Browser:  # type: ignore[no-untyped-def]
    return Browser(sqlite_world)


@pytest.fixture
def signed_in(sqlite_world):  # type: ignore[no-untyped-def]
    """``signed_in("armero1")``: a client already signed in as that user."""
    def make(username: str) -> Browser:
        browser = Browser(sqlite_world)
        response = browser.sign_in(username)
        assert response.status_code == 200, response.text
        return browser
    return make


def set_pin(app: Resguardo, agency: str, badge: str, pin: str, chief: str = "jefe1") -> None:
    from resguardo.services import pins
    do(app, chief, pins.set_pin, agency, badge, pin)


# --- a live server and a real browser ---------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(self, app: Resguardo) -> None:
        import uvicorn
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_site(app), host="127.0.0.1", port=self.port,
                                log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the site did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """One headless Chromium for the session (Debian's; Playwright cannot download one)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"{CHROMIUM} is required in CI (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"])
        yield browser
        browser.close()


@pytest.fixture
def live(sqlite_world) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    with LiveServer(sqlite_world) as server:
        yield server


def shot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    """Save a full-page screenshot under test-artifacts/web/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
