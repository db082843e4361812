"""Helpers the web tests share, imported by this unique name (``conftest`` is
ambiguous across test directories): a test client that signs in like a person,
CSRF tokens from pages, the site served by uvicorn on a free port, and
screenshots under test-artifacts/web/ (with ``RESGUARDO_TEST_SCREENSHOTS=1``)."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from pathlib import Path

from fastapi.testclient import TestClient

from resguardo.services.app import Resguardo
from resguardo.web import create_site

from world import PASSWORD, do

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
#: Whether ``shot`` saves its screenshots (``RESGUARDO_TEST_SCREENSHOTS=1``, for a person to
#: look at the pages): a full-page PNG of each page costs about a third of the walk of every
#: page as every role, and no test reads them, so the suite runs without them. The guides'
#: pictures (``test_guides.py``) are taken every run: they are the guides' own.
SCREENSHOTS = os.environ.get("RESGUARDO_TEST_SCREENSHOTS", "") not in ("", "0")
CHROMIUM = "/usr/bin/chromium"


def shown(html: str) -> str:
    """The words a page shows: its text without tags, so that attribute values (a random
    CSRF token, say) cannot match a short string the test looks for."""
    return re.sub(r"<[^>]+>", " ", html)


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


def set_pin(app: Resguardo, agency: str, badge: str, pin: str, chief: str = "jefe1") -> None:
    from resguardo.services import pins
    do(app, chief, pins.set_pin, agency, badge, pin)


def web_session(app: Resguardo, username: str) -> str:
    """The token of a new web session for ``username``, opened by the product's own session
    service as the sign-in form's answer opens one once the password is right: the cookie a
    browser would hold after signing in (``test_web_browser.sign_in``)."""
    from resguardo.services import sessions
    with app.work(username) as uow:
        assert uow.actor is not None
        token = sessions.open_session(uow, uow.actor)
        uow.commit()
    return token


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """The site served by uvicorn in a thread on 127.0.0.1 and a free port."""

    def __init__(self, app: Resguardo) -> None:
        import uvicorn
        self.app = app
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


def shot(page, name: str) -> Path | None:  # type: ignore[no-untyped-def]
    """Save a full-page screenshot under test-artifacts/web/ (``SCREENSHOTS``)."""
    if not SCREENSHOTS:
        return None
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
