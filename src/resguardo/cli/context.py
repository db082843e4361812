"""What every command shares: the deployment, the acting user, running a
unit of work and turning refusals into exit codes."""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from resguardo.cli.output import domain_failure, fail, print_json
from resguardo.domain.entities import Actor
from resguardo.domain.errors import AuthenticationFailed, DomainError
from resguardo.domain.events import Event
from resguardo.services import auth
from resguardo.services.app import Resguardo
from resguardo.storage.database import (
    STORAGE_FULL,
    database_errors,
    has_schema,
    is_storage_full,
)
from resguardo.storage.uow import UnitOfWork

AsUser = Annotated[
    str | None,
    typer.Option("--as", envvar="RESGUARDO_USER", metavar="USER",
                 help="Act as this user (or set RESGUARDO_USER). Every write is checked "
                      "against the user's role and scope."),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]

_app: Resguardo | None = None
T = TypeVar("T")


def deployment() -> Resguardo:
    global _app
    if _app is None:
        _app = Resguardo()
    return _app


def set_deployment(app: Resguardo | None) -> None:
    """Tests and the demo point the CLI at a deployment of their own."""
    global _app
    _app = app
    _PROVED.clear()


def refusals(fn: Callable[..., T]) -> Callable[..., T]:
    """Exit 1 with a one-line reason on a refused operation."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except DomainError as exc:
            raise domain_failure(exc) from None
        except database_errors() as exc:
            if is_storage_full(exc):
                raise fail(f"{STORAGE_FULL} [storage_full]") from None
            app = deployment()
            try:
                ready = has_schema(app.engine)
            except Exception:  # noqa: BLE001 - the database itself is unreachable
                ready = False
            if not ready:
                raise fail(f"no Resguardo database at {app.settings.database_url}; "
                           "run `resguardo init` first") from None
            raise fail(f"database error: {getattr(exc, 'orig', exc)}") from None
    return wrapper


#: Who acts, once proved, for the rest of the command (a command may open several units).
_PROVED: dict[str, Actor] = {}


def forget_credentials() -> None:
    """Each command proves who acts afresh."""
    _PROVED.clear()


def require_user(as_user: str | Actor | None) -> Actor:
    """The person acting, with the credential this command proved.

    On a laptop (the default) ``--as`` names the operator and is trusted
    (``cli:local``). With RESGUARDO_CLI_SIGN_IN on (a server), the person proves
    it: a token file (RESGUARDO_TOKEN_FILE: a session token of that person from
    ``POST /api/v1/auth/token``, or a service account's integration token), or the
    password (and authenticator code) asked on the terminal.
    """
    if isinstance(as_user, Actor):
        return as_user
    if not as_user:
        raise fail("say who is acting: --as USER or RESGUARDO_USER", code=2)
    name = as_user.strip().lower()
    found = _PROVED.get(name)
    if found is None:
        app = deployment()
        credential = _prove(app, name) if app.settings.cli_sign_in else "cli:local"
        with app.read(None) as uow:
            actor = uow.repo.actor_for(name)
        found = _PROVED[name] = dataclasses.replace(actor, credential=credential)
    return found


def _prove(app: Resguardo, name: str) -> str:
    """Check the credentials of ``name`` on a server; the credential's name, or refuse."""
    token_file = os.environ.get("RESGUARDO_TOKEN_FILE")
    if token_file:
        try:
            token = Path(token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise fail(f"RESGUARDO_TOKEN_FILE: cannot read {token_file}: {exc.strerror}",
                       code=2) from None
        owner, credential = auth.bearer_caller(app, token)
        if owner != name:
            raise AuthenticationFailed("the token in RESGUARDO_TOKEN_FILE belongs to someone "
                                       "else")
        return "cli:" + credential.split(":", 1)[1]
    password = typer.prompt(f"Password for {name}", hide_input=True, err=True)
    try:
        auth.authenticate(app, name, password, "cli")
    except auth.TotpRequired:
        code = typer.prompt("Authenticator code", err=True)
        auth.authenticate(app, name, password, "cli", totp=code)
    return "cli:password"


def write(as_user: str | Actor | None, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one service call in one transaction as the named user, and commit."""
    user = require_user(as_user)
    with deployment().work(user) as uow:
        result = fn(uow, *args, **kwargs)
        uow.commit()
        return result


def read(as_user: str | Actor | None, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    user = require_user(as_user)
    with deployment().read(user) as uow:
        return fn(uow, *args, **kwargs)


def agency_of(uow: UnitOfWork, given: str | None) -> str:
    """The agency a command means: the one given, or the acting user's own agency."""
    if given:
        return given
    if uow.actor is not None and uow.actor.scope.holds_weapons:
        return uow.actor.scope.code
    raise fail("give --agency CODE (your scope is not a single agency)", code=2)


def event_dict(ev: Event) -> dict[str, Any]:
    return ev.document()


def report_event(ev: Event, as_json: bool, message: str) -> None:
    if as_json:
        print_json(event_dict(ev))
    else:
        typer.echo(f"{message} (entry {ev.position})")
