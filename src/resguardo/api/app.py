"""The FastAPI application: every resource under ``/api/v1``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from resguardo import __version__
from resguardo.api import errors
from resguardo.api.dependencies import PositionsMiddleware, RequestIdMiddleware
from resguardo.api.routers import (
    access,
    auth,
    custody,
    firearms,
    imports,
    inspections,
    ledger,
    officers,
    operations,
)
from resguardo.api.routers import organizations as registry
from resguardo.api.routers import trace as trace_routes
from resguardo.api.webhooks import DeliveryWorker
from resguardo.services import witnessing
from resguardo.services.app import Resguardo
from resguardo.services.auth import AuthSettings

PREFIX = "/api/v1"
log = logging.getLogger("resguardo.api")

DESCRIPTION = """\
Firearms registry, custody, ammunition and alerts for police agencies and the
authorities that oversee them.

**Authentication.** `POST /api/v1/auth/token` with a username and password (and
a TOTP code when the account has one) returns a bearer token; integrations use
a long-lived token an admin creates. Send `Authorization: Bearer <token>`.

**Authorization.** Every operation checks the caller's role (its
`x-resguardo-action` names the permission) and scope: an object outside your
scope answers 404, exactly like one that does not exist.

**Errors.** Every error has one shape,
`{"error": {"code": "...", "message": "...", "details": {...}}}`, with a stable
code; 422 is only for payloads that fail validation.

**Idempotency.** Writes accept an `Idempotency-Key` header: a retry with the
same key and request gets the first answer (with `Idempotent-Replayed: true`)
instead of writing twice.

**Request ids.** Every answer carries `X-Request-ID` (yours, when you send a
well-formed one); every entry a request writes to the log records it.
"""


def create_app(resguardo: Resguardo, *, auth_settings: AuthSettings | None = None,
               webhooks: bool = True, worker_options: dict[str, Any] | None = None) -> FastAPI:
    """The API for one deployment. ``webhooks`` starts the delivery worker with the app."""
    worker: DeliveryWorker | None = None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        nonlocal worker
        publisher = witnessing.Publisher.for_app(resguardo) if webhooks else None
        if webhooks:
            worker = DeliveryWorker(resguardo, **(worker_options or {}))
            worker.start()
            app.state.webhook_worker = worker
        if publisher is not None:
            publisher.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            if publisher is not None:
                publisher.stop()

    app = FastAPI(title="Resguardo API", version=__version__, description=DESCRIPTION,
                  openapi_url=f"{PREFIX}/openapi.json", docs_url=f"{PREFIX}/docs",
                  redoc_url=None, lifespan=lifespan)
    app.state.resguardo = resguardo
    app.state.auth_settings = auth_settings or AuthSettings.from_env()
    errors.install(app)
    app.add_middleware(RequestIdMiddleware)
    if resguardo.settings.read_database_url:
        app.add_middleware(PositionsMiddleware)
    for router in (auth.router, registry.orgs, registry.locations, registry.licences,
                   officers.officers, firearms.firearms, custody.actions, operations.ammo,
                   operations.alerts, operations.requests, operations.losses,
                   operations.entries, inspections.inspections, ledger.ledger,
                   access.accounts, access.grants, access.tokens, access.hooks, imports.imports):
        app.include_router(router, prefix=PREFIX)
    app.include_router(trace_routes.traces, prefix=PREFIX)

    @app.get(f"{PREFIX}/health", include_in_schema=False)
    def health(request: Request) -> JSONResponse:
        """Liveness and database reachability, for load balancers and operators (no
        sign-in): which database this process writes to, whether it is the primary, and
        how far each streaming replica lags."""
        from resguardo.storage.database import replica_status, status
        resguardo = request.app.state.resguardo  # the app's deployment, as every route's
        with resguardo.read(None) as uow:
            size = uow.repo.log_size()
            database = status(uow.conn)
        body: dict[str, Any] = {"status": "ok", "database": database}
        replica = replica_status(size, resguardo.replica_engine)
        if replica is not None:
            body["read_replica"] = replica
        return JSONResponse(body)

    @app.get(f"{PREFIX}/metrics", include_in_schema=False)
    def metrics(request: Request) -> PlainTextResponse:
        """Prometheus metrics (no sign-in, nothing secret): the log's size, the streaming
        replicas' lag as the primary sees it, and the read replica's lag."""
        from resguardo.storage.database import replica_status, status
        resguardo = request.app.state.resguardo
        with resguardo.read(None) as uow:
            size = uow.repo.log_size()
            database = status(uow.conn)
        lines = ["# HELP resguardo_log_entries Entries in the log.",
                 "# TYPE resguardo_log_entries gauge", f"resguardo_log_entries {size}",
                 "# HELP resguardo_primary 1 when this process writes to a primary.",
                 "# TYPE resguardo_primary gauge",
                 f"resguardo_primary {int(database['role'] == 'primary')}"]
        standbys = database.get("replicas") or []
        if standbys:
            lines += ["# HELP resguardo_standby_replay_lag_seconds Replay lag of each "
                      "streaming standby, as the primary sees it.",
                      "# TYPE resguardo_standby_replay_lag_seconds gauge"]
            lines += [f'resguardo_standby_replay_lag_seconds{{name="{r["name"]}",'
                      f'sync="{r["sync"]}"}} {r["replay_lag_seconds"]}' for r in standbys]
        replica = replica_status(size, resguardo.replica_engine)
        if replica is not None:
            lines += ["# HELP resguardo_read_replica_up 1 when the read replica answers.",
                      "# TYPE resguardo_read_replica_up gauge",
                      f"resguardo_read_replica_up {int(replica['reachable'])}"]
            if replica["reachable"]:
                lines += ["# HELP resguardo_read_replica_entries_behind Log entries the read "
                          "replica has not replayed yet.",
                          "# TYPE resguardo_read_replica_entries_behind gauge",
                          f"resguardo_read_replica_entries_behind {replica['entries_behind']}",
                          "# HELP resguardo_read_replica_lag_seconds How long the read "
                          "replica has been behind.",
                          "# TYPE resguardo_read_replica_lag_seconds gauge",
                          f"resguardo_read_replica_lag_seconds {replica['lag_seconds']}"]
        return PlainTextResponse("\n".join(lines) + "\n",
                                 media_type="text/plain; version=0.0.4")

    return app


def app_from_env() -> FastAPI:
    """The deployment configured by the environment, as ``resguardo serve`` runs it.

    When the web interface is installed (``resguardo.web.mount``), it is served
    by the same process.
    """
    resguardo = Resguardo()
    app = create_app(resguardo)
    try:
        from resguardo.web import mount
    except ImportError:
        return app
    mount(app, resguardo)
    return app
