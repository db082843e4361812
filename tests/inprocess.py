"""A synchronous client for the ASGI application, in-process (the API and fuzzing tests)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI

from resguardo.api import create_app
from resguardo.services.auth import AuthSettings


class AsgiClient:
    """A synchronous client calling the ASGI app in-process.

    Starlette's TestClient hops threads on every request (several milliseconds
    each here); this drives ``httpx.ASGITransport`` on a private event loop.
    The application's lifespan does not run (no webhook worker).
    """

    def __init__(self, app: Any, *, raise_server_exceptions: bool = True,
                 address: str = "testclient", port: int = 50000,
                 follow_redirects: bool = False) -> None:
        self._loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_server_exceptions,
                                        client=(address, port))
        self._client = httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                         follow_redirects=follow_redirects)
        self._calls: asyncio.Queue[tuple[Any, asyncio.Future[Any]]] = asyncio.Queue()
        self._root = self._loop.create_task(self._serve())

    async def _serve(self) -> None:
        """The requests, one after another, in one long-lived task.

        AnyIO ties the worker threads that run the application's synchronous routes to the
        task at the root of the caller: with each request driven as a task of its own, every
        request started a thread and stopped it at the end. Run here, the requests share the
        threads, as they do in a real server. The requests share the task's context
        variables; the application sets and resets its own around each request
        (``storage.positions``)."""
        while True:
            call, done = await self._calls.get()
            try:
                result = await call()
            except BaseException as exc:  # handed to the caller, who raises it
                if not done.cancelled():
                    done.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
            else:
                if not done.cancelled():
                    done.set_result(result)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        if self._root.done():
            raise RuntimeError("the client is closed, or a request interrupted it")

        async def call() -> httpx.Response:
            return await self._client.request(method, url, **kwargs)
        done: asyncio.Future[httpx.Response] = self._loop.create_future()
        self._calls.put_nowait((call, done))
        return self._loop.run_until_complete(done)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

    def close(self) -> None:
        self._root.cancel()
        self._loop.run_until_complete(asyncio.gather(self._root, return_exceptions=True))
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()


#: One application per process and kind of deployment (with a read replica or without), its
#: deployment replaced for each test: see ``api_app``.
_APPS: dict[bool, FastAPI] = {}


def api_app(world) -> FastAPI:  # type: ignore[no-untyped-def]
    """The API application serving ``world``, with the default sign-in settings.

    An application keeps nothing of its deployment but ``app.state.resguardo`` (every route
    and dependency reads the deployment there), while FastAPI builds each application's
    routes anew on its first requests: about half a second of CPU, once per test when every
    test made its own. The tests share one application and hand it the test's world.
    """
    key = bool(world.settings.read_database_url)
    app = _APPS.get(key)
    if app is None:
        app = _APPS[key] = create_app(world, auth_settings=AuthSettings(), webhooks=False)
    app.state.resguardo = world
    return app
