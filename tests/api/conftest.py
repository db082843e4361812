"""Fixtures for the HTTP API tests: the test world behind an in-process client."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from resguardo.api import create_app
from resguardo.services.auth import AuthSettings

from world import PASSWORD

SETTINGS = AuthSettings()


class Api:
    """A test client plus a cache of session tokens per user."""

    def __init__(self, app, client: TestClient) -> None:  # type: ignore[no-untyped-def]
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

    def headers(self, username: str | None, **extra: str) -> dict[str, str]:
        out = dict(extra)
        if username is not None:
            out["Authorization"] = f"Bearer {self.token(username)}"
        return out

    def get(self, username: str | None, path: str, **kwargs):  # type: ignore[no-untyped-def]
        return self.client.get("/api/v1" + path, headers=self.headers(username), **kwargs)

    def post(self, username: str | None, path: str, json=None,  # type: ignore[no-untyped-def]
             headers: dict[str, str] | None = None):
        return self.client.post("/api/v1" + path, json=json,
                                headers={**self.headers(username), **(headers or {})})

    def delete(self, username: str | None, path: str):  # type: ignore[no-untyped-def]
        return self.client.delete("/api/v1" + path, headers=self.headers(username))


@pytest.fixture
def api(world) -> Api:  # type: ignore[no-untyped-def]
    app = create_app(world, auth_settings=SETTINGS, webhooks=False)
    with TestClient(app, raise_server_exceptions=True) as client:
        yield Api(world, client)
    world.engine.dispose()


@pytest.fixture
def firearm_id(api: Api) -> Callable[[str], int]:
    """The id of a firearm by serial, looked up as the system."""
    def find(serial: str) -> int:
        with api.app.read(None) as uow:
            return uow.repo.firearm(serial).id
    return find
