"""Fixtures for the HTTP API tests: the test world behind an in-process client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from inprocess import AsgiClient, api_app

from world import PASSWORD


class Api:
    """A test client plus a cache of session tokens per user."""

    def __init__(self, app, client: AsgiClient) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.client = client
        self._tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self._tokens:
            r = self.client.post("/api/v1/auth/token",
                                 json={"username": username, "password": PASSWORD})
            assert r.status_code == 200, r.text
            self._tokens[username] = r.json()["access_token"]
        return self._tokens[username]

    def sign_in_again(self) -> None:
        """Forget the session tokens (after moving the clock past their expiry)."""
        self._tokens.clear()

    def headers(self, username: str | None, **extra: str) -> dict[str, str]:
        out = dict(extra)
        if username is not None:
            out["Authorization"] = f"Bearer {self.token(username)}"
        return out

    def get(self, username: str | None, path: str,  # type: ignore[no-untyped-def]
            headers: dict[str, str] | None = None):
        return self.client.get("/api/v1" + path,
                               headers={**self.headers(username), **(headers or {})})

    def post(self, username: str | None, path: str, json=None,  # type: ignore[no-untyped-def]
             headers: dict[str, str] | None = None):
        return self.client.post("/api/v1" + path, json=json,
                                headers={**self.headers(username), **(headers or {})})

    def delete(self, username: str | None, path: str):  # type: ignore[no-untyped-def]
        return self.client.delete("/api/v1" + path, headers=self.headers(username))


@pytest.fixture
def asgi_client() -> Iterator[Callable[..., AsgiClient]]:
    """Make in-process clients for FastAPI apps; closed after the test."""
    made: list[AsgiClient] = []

    def make(app: Any, **kwargs: Any) -> AsgiClient:
        made.append(AsgiClient(app, **kwargs))
        return made[-1]
    yield make
    for client in made:
        client.close()


@pytest.fixture
def api(world, asgi_client) -> Iterator[Api]:  # type: ignore[no-untyped-def]
    yield Api(world, asgi_client(api_app(world)))
    world.engine.dispose()


@pytest.fixture
def firearm_id(api: Api) -> Callable[[str], int]:
    """The id of a firearm by serial, looked up as the system."""
    def find(serial: str) -> int:
        with api.app.read(None) as uow:
            return uow.repo.firearm(serial).id
    return find
