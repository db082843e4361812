"""Fixtures for the web interface: the small world on SQLite, signed-in test
clients, and for browser tests the site served by uvicorn with Debian's
headless Chromium driven by Playwright. Helpers live in ``web_support``."""

from __future__ import annotations

import asyncio
import os
from asyncio import events
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_support import CHROMIUM, Browser, LiveServer, web_session

from resguardo.services.app import Resguardo
from resguardo.web.site import SESSION_COOKIE
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
    """``signed_in("armero1")``: a client already signed in as that user, holding the cookie
    of a session the product's session service opened (``web_support.web_session``); the
    sign-in form itself is tested with ``Browser.sign_in`` (test_web_sessions.py,
    test_web_pages.py)."""
    def make(username: str) -> Browser:
        browser = Browser(sqlite_world)
        browser.client.cookies.set(SESSION_COOKIE, web_session(sqlite_world, username))
        return browser
    return make


@pytest.fixture(scope="session")
def playwright_session() -> Iterator[tuple[object, asyncio.AbstractEventLoop]]:
    """Playwright (its driver process) once per test process, with its event loop.

    Playwright's sync API runs its event loop in a greenlet of this thread and leaves the
    loop marked as this thread's running loop between its calls; a later test that runs a
    loop of its own (``asyncio.run``) would find it busy. So between browser tests the
    mark is cleared, and ``playwright_turn`` sets it again for a test that uses the browser
    (nothing runs in Playwright's loop but inside its calls). Starting the driver and a
    Chromium for each module cost seconds a module."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"{CHROMIUM} is required in CI (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright
    manager = sync_playwright()
    p = manager.start()
    loop = asyncio.get_running_loop()  # Playwright's, marked running in this thread
    events._set_running_loop(None)
    try:
        yield p, loop
    finally:
        events._set_running_loop(loop)
        p.stop()


@pytest.fixture
def playwright_turn(playwright_session) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """Playwright for one test: its loop marked running in this thread for the test's
    calls, the mark cleared after (``playwright_session``)."""
    p, loop = playwright_session
    events._set_running_loop(loop)
    try:
        yield p
    finally:
        events._set_running_loop(None)


@pytest.fixture(scope="session")
def chromium_session(playwright_session) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """One headless Chromium per test process (Debian's; Playwright cannot download one)."""
    p, loop = playwright_session
    events._set_running_loop(loop)
    try:
        browser = p.chromium.launch(  # type: ignore[attr-defined]
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"])
    finally:
        events._set_running_loop(None)
    yield browser
    events._set_running_loop(loop)
    try:
        browser.close()
    finally:
        events._set_running_loop(None)


@pytest.fixture
def chromium(chromium_session, playwright_turn) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """The process's Chromium, for one test (each test opens its own context). A context a
    test leaves open is closed after it, so that none outlives its test."""
    yield chromium_session
    for context in list(chromium_session.contexts):  # type: ignore[attr-defined]
        context.close()


@pytest.fixture
def live(sqlite_world) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    with LiveServer(sqlite_world) as server:
        yield server
