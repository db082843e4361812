"""Fixtures for the web interface: the small world on SQLite, signed-in test
clients, and for browser tests the site served by uvicorn with Debian's
headless Chromium driven by Playwright. Helpers live in ``web_support``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_support import CHROMIUM, Browser, LiveServer

from resguardo.services.app import Resguardo
from templates import built_once

from world import build_world, make_app


@pytest.fixture
def sqlite_world(clock, tmp_path, sqlite_url) -> Resguardo:  # type: ignore[no-untyped-def]
    """The world of tests/world.py on SQLite only (a copy of the process's template)."""
    return built_once("world", sqlite_url, clock, tmp_path,
                      lambda at: build_world(at, clock, tmp_path),
                      lambda: make_app(sqlite_url, clock, tmp_path))


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


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """One headless Chromium per module (Debian's; Playwright cannot download one).

    Not per session: Playwright's sync API keeps an event loop running in this thread
    until it stops, and later tests that run their own loop would find it busy.
    """
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
