"""Serving the HTTP API, and the credentials integrations and people sign in with."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

import typer

from resguardo.cli.context import AsUser, Json, deployment, read, refusals, write
from resguardo.cli.output import fail, print_json, print_table
from resguardo.services import auth
from resguardo.storage import api_queries as q
from resguardo.storage.database import has_schema

token_app = typer.Typer(help="Long-lived API tokens for integrations (admin only).",
                        no_args_is_help=True)
totp_app = typer.Typer(help="Authenticator-app second factor for an account.",
                       no_args_is_help=True)


@refusals
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Server processes (SQLite: keep 1 or 2).")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the HTTP API (and the web interface, when installed) with uvicorn.

    The API is under /api/v1, its OpenAPI document at /api/v1/openapi.json and
    interactive docs at /api/v1/docs. The database is RESGUARDO_DATABASE_URL.

    Example: resguardo serve --host 127.0.0.1 --port 8000
    """
    import uvicorn

    app = deployment()
    if not has_schema(app.engine):
        raise fail(f"no Resguardo database at {app.settings.database_url}; "
                   "run `resguardo init` first")
    from resguardo.storage import schema  # Alembic: only when serving

    current, head = schema.current_revision(app.engine), schema.head_revision()
    if current != head:
        raise fail(f"the database schema is at {current}, this version needs {head}; "
                   "run `resguardo db upgrade`")
    app.engine.dispose()
    uvicorn.run("resguardo.api.app:app_from_env", factory=True, host=host, port=port,
                workers=workers, log_level=log_level, proxy_headers=False)


def _expiry(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.combine(date.fromisoformat(value), time(0, 0), tzinfo=UTC)
    except ValueError:
        raise fail("--expires must be a date YYYY-MM-DD", code=2) from None


@token_app.command("create")
@refusals
def token_create(
    username: Annotated[str, typer.Argument(
        help="The service account the integration acts as (never a person).")],
    name: Annotated[str, typer.Option(help="What the token is for.")],
    expires: Annotated[str | None, typer.Option(help="Last day it works, YYYY-MM-DD.")] = None,
    as_user: AsUser = None,
    as_json: Json = False,
) -> None:
    """Create an API token for a service account; printed once, stored only as a hash.

    Example: resguardo --as admin token create locker-arm1 --name "Smart locker ARM1"
    """
    token_id, token = write(as_user, auth.create_api_token, username, name,
                            expires_at=_expiry(expires))
    if as_json:
        print_json({"id": token_id, "username": username.lower(), "name": name,
                    "token": token})
    else:
        typer.echo(f"Token {token_id} for {username.lower()} (shown only now):")
        typer.echo(token)


@token_app.command("revoke")
@refusals
def token_revoke(token_id: Annotated[int, typer.Argument(help="Token id (see `token list`).")],
                 as_user: AsUser = None, as_json: Json = False) -> None:
    """Revoke an API token; it stops working at once.

    Example: resguardo --as admin token revoke 7
    """
    row = write(as_user, auth.revoke_api_token, token_id)
    if as_json:
        print_json(row)
    else:
        typer.echo(f"Token {token_id} ({row['name']}, {row['username']}) revoked.")


@token_app.command("list")
@refusals
def token_list(user: Annotated[str | None, typer.Option(help="Only this account's.")] = None,
               active: Annotated[bool, typer.Option("--active", help="Hide revoked tokens.")] = False,
               as_user: AsUser = None, as_json: Json = False) -> None:
    """List API tokens of accounts in your scope (never the tokens themselves).

    Example: resguardo --as admin token list --active
    """
    def run(uow):  # type: ignore[no-untyped-def]
        from resguardo.domain.policy import Action, authorize
        if uow.actor is not None:
            authorize(uow.actor, Action.USER_MANAGE)
        return q.tokens_page(uow.repo, username=user.lower() if user else None,
                             active_only=active, limit=q.MAX_LIMIT).items
    rows = read(as_user, run)
    if as_json:
        print_json(rows)
    else:
        print_table("API tokens", ["id", "user", "name", "starts", "created", "expires",
                                   "revoked"],
                    [(r["id"], r["username"], r["name"], r["prefix"], r["created_at"][:16],
                      (r["expires_at"] or "")[:10], (r["revoked_at"] or "")[:16])
                     for r in rows])


@totp_app.command("enroll")
@refusals
def totp_enroll(username: Annotated[str, typer.Argument(help="Account to enrol.")],
                as_user: AsUser = None, as_json: Json = False) -> None:
    """Give an account a new authenticator secret (printed once; scan the URI as a QR code).

    Example: resguardo --as admin totp enroll supervisor1
    """
    secret, uri = write(as_user, auth.enroll_totp, username)
    if as_json:
        print_json({"username": username.lower(), "secret": secret, "uri": uri})
    else:
        typer.echo(f"Secret for {username.lower()} (shown only now): {secret}")
        typer.echo(uri)


@totp_app.command("remove")
@refusals
def totp_remove(username: Annotated[str, typer.Argument(help="Account.")],
                as_user: AsUser = None) -> None:
    """Remove an account's second factor (a lost phone). Example: resguardo --as admin totp remove supervisor1"""
    write(as_user, auth.remove_totp, username)
    typer.echo(f"Second factor of {username.lower()} removed.")


@refusals
def unlock(username: Annotated[str, typer.Argument(help="Account to unlock.")],
           as_user: AsUser = None) -> None:
    """Lift a sign-in lock after repeated failures. Example: resguardo --as admin unlock armero1"""
    write(as_user, auth.unlock, username)
    typer.echo(f"{username.lower()} unlocked.")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(token_app, name="token")
    app.add_typer(totp_app, name="totp")
    app.command("unlock")(unlock)
