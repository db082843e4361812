"""Who is calling, and running their request in one unit of work.

``reader`` and ``writer`` turn the bearer token into a ``Caller``; the caller
opens units of work as its user (so every query is scoped to that user) and
tags every event with the request id. ``Caller.write`` is the one way a route
writes: one transaction, committed once, and, when the client sent an
``Idempotency-Key``, the answer stored in that same transaction so a retry
gets the stored answer instead of a second write.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from resguardo.domain.entities import Actor
from resguardo.domain.errors import AuthenticationFailed, Conflict, NotFound
from resguardo.domain.timefmt import iso
from resguardo.services import auth, storage_health
from resguardo.services.app import Resguardo
from resguardo.storage import api_queries as q
from resguardo.storage import positions
from resguardo.storage.database import is_sqlite, say_writer_waits
from resguardo.storage.uow import UnitOfWork

T = TypeVar("T")
R = TypeVar("R")

#: How long a stored idempotent answer is replayed.
IDEMPOTENCY_TTL = timedelta(hours=24)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

bearer = HTTPBearer(auto_error=False, scheme_name="bearer", description=(
    "A session token from `POST /api/v1/auth/token`, or an integration token "
    "created by an admin (`resguardo token create`)."))


class IdempotencyKeyReused(Conflict):
    """The Idempotency-Key was already used for a different request."""

    code = "idempotency_key_reused"


class _WriterGate:
    """One writer at a time per SQLite file: a lock for this process's threads, and an
    advisory file lock for the other server processes on the same file."""

    def __init__(self, path: str | None) -> None:
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._path = path
        self._waiting = threading.local()  # this thread's "I wait" descriptor
        if path and path != ":memory:":
            self._fd = os.open(path + ".writer-lock", os.O_RDWR | os.O_CREAT, 0o600)

    def __enter__(self) -> None:
        # A writer queued here waits for the database too: it says so from now until it
        # is done, so that a large import lets it in before its next slice
        # (``storage.database.let_waiting_writers_in``).
        waiting = say_writer_waits(self._path)
        try:
            self._lock.acquire()
            if self._fd is not None:
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX)
                except BaseException:
                    self._lock.release()
                    raise
        except BaseException:
            if waiting is not None:
                os.close(waiting)
            raise
        self._waiting.fd = waiting

    def __exit__(self, *exc: object) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._lock.release()
            waiting, self._waiting.fd = getattr(self._waiting, "fd", None), None
            if waiting is not None:
                os.close(waiting)


_GATES: dict[str, _WriterGate] = {}
_GATES_LOCK = threading.Lock()


def writer_gate(app: Resguardo) -> AbstractContextManager[Any]:
    """Hold this while writing: on SQLite, writers queue here, in and across processes.

    SQLite admits one writer at a time and makes the others retry with growing
    sleeps; with dozens of request threads most of them sleep while the database
    is free. Queuing on a lock instead hands the database to the next writer the
    moment the previous one commits. PostgreSQL needs no gate.
    """
    if not is_sqlite(app.engine):
        return nullcontext()
    url = app.settings.database_url
    gate = _GATES.get(url)
    if gate is None:
        with _GATES_LOCK:
            gate = _GATES.get(url)
            if gate is None:
                path = url.split("///", 1)[1] if "///" in url else None
                gate = _GATES[url] = _WriterGate(path)
    return gate


class RequestIdMiddleware:
    """Give every request an id (the client's ``X-Request-ID`` when well formed).

    The id is recorded on every event the request appends and sent back in the
    ``X-Request-ID`` response header, so a client can find its writes in the log.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                given = value.decode("latin-1")
                break
        request_id = given if given and _REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        raw = request_id.encode("ascii")

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", raw)]
            await send(message)

        await self.app(scope, receive, send_with_id)


#: Where a person's last write is remembered between requests (web) and how an API
#: client asks for it (``storage.positions``).
POSITION_COOKIE = "rg_pos"
READ_AFTER_HEADER = b"resguardo-read-after"
POSITION_HEADER = b"resguardo-log-position"


class PositionsMiddleware:
    """Read-your-own-writes when reads may go to a lagging replica.

    A request's reads must see the log up to the position of the person's last write:
    the ``rg_pos`` cookie the web sets after each write, or the API's
    ``Resguardo-Read-After`` header (the ``Resguardo-Log-Position`` a write answered).
    After a write, the response carries the new position in both.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = 0
        for name, value in scope.get("headers", ()):
            if name == READ_AFTER_HEADER:
                wanted = max(wanted, positions.parse(value.decode("latin-1").strip()))
            elif name == b"cookie":
                for part in value.decode("latin-1").split(";"):
                    key, _, val = part.strip().partition("=")
                    if key == POSITION_COOKIE:
                        wanted = max(wanted, positions.parse(val))
        current, token = positions.start(wanted)

        async def send_with_position(message: Message) -> None:
            if message["type"] == "http.response.start" and current.written:
                at = str(current.written).encode("ascii")
                message["headers"] = [
                    *message.get("headers", []), (POSITION_HEADER, at),
                    (b"set-cookie", b"%s=%s; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax"
                     % (POSITION_COOKIE.encode(), at))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_position)
        finally:
            positions.finish(token)


@dataclass
class Caller:
    """An authenticated request: the deployment, the bearer token and the request id."""

    app: Resguardo
    token: str
    request_id: str
    method: str
    path: str
    settings: auth.AuthSettings
    idempotency_key: str | None = None
    _who: tuple[str, str] | None = field(default=None, repr=False)
    _upkeep: str | None = field(default=None, repr=False)

    @property
    def username(self) -> str:
        if self._who is None:
            self._who = auth.bearer_caller(self.app, self.token)
        return self._who[0]

    @property
    def credential(self) -> str:
        """The session or token this request came with (``api:session:..``, ``api:token:N``)."""
        if self._who is None:
            self._who = auth.bearer_caller(self.app, self.token)
        return self._who[1]

    def work(self, *, write: bool = True) -> UnitOfWork:
        """A unit of work as the caller, its entries tagged with the request and credential.

        A session token is looked up inside the unit of work's own transaction (one
        round trip per request, not a transaction of its own).
        """
        if self._who is None and self.token.startswith(auth.SESSION_PREFIX):
            return self.app.work(self._session_actor, write=write, request_id=self.request_id)
        return self.app.work(self.username, write=write, request_id=self.request_id,
                             credential=self.credential)

    def _session_actor(self, conn: Any) -> Actor:
        actor, self._upkeep = auth.session_actor(conn, self.app.clock(), self.token)
        self._who = (actor.username, actor.credential or "")
        return actor

    @contextmanager
    def _unit(self, write: bool) -> Iterator[UnitOfWork]:
        if not self.token.startswith(auth.SESSION_PREFIX):
            self.username  # noqa: B018 - refuse a dead token before taking the writer's gate
        with writer_gate(self.app) if write else nullcontext():
            uow = self.work(write=write)
            try:
                uow.__enter__()
            except NotFound:
                raise AuthenticationFailed("the account behind this token is disabled") from None
            try:
                yield uow
            finally:
                uow.__exit__(None, None, None)
        if self._upkeep:
            auth.keep_session(self.app, self.token, self._upkeep)
            self._upkeep = None

    @contextmanager
    def read(self, *, may_lag: bool = False) -> Iterator[UnitOfWork]:
        """A read-only unit of work as the caller. ``may_lag``: served by the read replica
        when one is configured and has replayed the caller's last write; who the caller
        is, is still decided on the primary (a session opened a moment ago)."""
        if may_lag and self.app.replica_engine is not None:
            with self._unit(write=False) as uow:
                actor = uow.actor
            with self.app.read(actor, may_lag=True) as lagging:
                yield lagging
            return
        with self._unit(write=False) as uow:
            yield uow

    def write(self, fn: Callable[[UnitOfWork], T],
              render: Callable[[UnitOfWork, T], BaseModel | dict[str, Any] | list[Any]], *,
              status: int = 201, body: BaseModel | None = None) -> Response:
        """Run ``fn`` in one transaction, render its result, commit, answer ``status``."""
        with self._unit(write=True) as uow:
            key = self.idempotency_key
            assert uow.actor is not None
            user_id = int(uow.actor.user_id or 0)
            if key is not None:
                digest = self._request_hash(body)
                if not q.claim_idempotency_key(uow.repo, user_id, key, digest, iso(uow.now())):
                    return self._replay(uow, user_id, key, digest)
            result = fn(uow)
            rendered = render(uow, result)
            data = (rendered.model_dump(mode="json") if isinstance(rendered, BaseModel)
                    else jsonable_encoder(rendered))
            text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
            if key is not None:
                q.store_idempotent_response(uow.repo, user_id, key, status, text)
            # a refusal rolls back the key's claim with everything else: a retry runs anew
            uow.commit()
        storage_health.note_written(self.app.engine)  # after a full disk: room again
        return Response(text, status_code=status, media_type="application/json")

    def recorded_read(self, fn: Callable[[UnitOfWork], T],
                      render: Callable[[UnitOfWork, T], R]) -> R:
        """A read that is itself recorded (sealed inspections): one committed transaction."""
        with self._unit(write=True) as uow:
            rendered = render(uow, fn(uow))
            uow.commit()
        return rendered

    def _request_hash(self, body: BaseModel | None) -> str:
        data = body.model_dump(mode="json") if body is not None else None
        text = json.dumps([self.method, self.path, data], sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def _replay(self, uow: UnitOfWork, user_id: int, key: str, digest: str) -> Response:
        assert self.idempotency_key is not None
        record = q.idempotency_record(uow.repo, user_id, key)
        if record is None or record["status_code"] == 0:
            raise Conflict("a request with this Idempotency-Key is still in progress; retry",
                           idempotency_key=key)
        if record["request_hash"] != digest:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used for a different request", idempotency_key=key)
        return Response(record["response_body"], status_code=int(record["status_code"]),
                        media_type="application/json",
                        headers={"Idempotent-Replayed": "true"})


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or not credentials.credentials:
        raise AuthenticationFailed("sign in first: send Authorization: Bearer <token>")
    return credentials.credentials


async def reader(request: Request,
                 credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
                 ) -> Caller:
    """The authenticated caller of a read."""
    state = request.app.state
    return Caller(state.resguardo, _token(credentials), request.state.request_id,
                  request.method, request.url.path, state.auth_settings)


IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$",
    description="Any unique string (a UUID). A retry with the same key and the same request "
                "gets the first answer again instead of writing twice; a different request "
                "with a used key is refused (`idempotency_key_reused`). Answers are kept "
                "24 hours; a refused request keeps nothing, so its retry is judged afresh.")]


async def writer(request: Request,
                 credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
                 idempotency_key: IdempotencyKey = None) -> Caller:
    """The authenticated caller of a write, with its Idempotency-Key if any."""
    state = request.app.state
    return Caller(state.resguardo, _token(credentials), request.state.request_id,
                  request.method, request.url.path, state.auth_settings,
                  idempotency_key=idempotency_key)


async def plain_writer(request: Request,
                       credentials: Annotated[HTTPAuthorizationCredentials | None,
                                              Depends(bearer)]) -> Caller:
    """A writer whose answer holds a secret shown once: never stored for replay."""
    state = request.app.state
    return Caller(state.resguardo, _token(credentials), request.state.request_id,
                  request.method, request.url.path, state.auth_settings)


Reader = Annotated[Caller, Depends(reader)]
Writer = Annotated[Caller, Depends(writer)]
SecretWriter = Annotated[Caller, Depends(plain_writer)]
