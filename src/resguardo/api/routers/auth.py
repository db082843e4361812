"""Signing in and finding out who you are."""

from __future__ import annotations

from fastapi import APIRouter, Request

from resguardo.api.dependencies import Reader, SecretWriter
from resguardo.api.errors import error_responses
from resguardo.api.routing import needs
from resguardo.api.schemas.access import LoginIn, MeOut, TokenOut, TotpOut
from resguardo.domain.policy import PERMISSIONS
from resguardo.services import auth

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=TokenOut,
             responses=error_responses(401, 422, 423, 429, 500, 503),
             openapi_extra=needs("none"))
def sign_in(body: LoginIn, request: Request) -> TokenOut:
    """Exchange a username and password (and TOTP code) for a session token.

    Five failures in a row lock the account for a while (423); many failures
    from one address are refused for a while (429). Every sign-in, failure and
    lock is recorded in the log. Send the token as `Authorization: Bearer ...`.
    """
    state = request.app.state
    address = request.client.host if request.client else "unknown"
    actor = auth.authenticate(state.resguardo, body.username, body.password, address,
                              totp=body.totp, settings=state.auth_settings)
    session = auth.issue_session(state.resguardo, actor, state.auth_settings)
    return TokenOut(access_token=session.token, expires_at=session.expires_at)


@router.get("/me", response_model=MeOut, responses=error_responses(),
            openapi_extra=needs("none"))
def me(caller: Reader) -> MeOut:
    """The signed-in user: role, scope and the actions the role may perform."""
    with caller.read() as uow:
        actor = uow.actor
    assert actor is not None
    return MeOut(username=actor.username, role=actor.role, scope=actor.scope.code,
                 scope_kind=actor.scope.kind.value,
                 permissions=sorted(a.value for a in PERMISSIONS[actor.role]))


@router.post("/totp", response_model=TotpOut, status_code=201, responses=error_responses(),
             openapi_extra=needs("none"))
def enroll_own_totp(caller: SecretWriter) -> object:
    """Set up (or replace) your own authenticator app; the secret is shown only now."""
    def run(uow):  # type: ignore[no-untyped-def]
        assert uow.actor is not None
        return auth.enroll_totp(uow, uow.actor.username)
    return caller.write(run, lambda uow, r: TotpOut(secret=r[0], uri=r[1]))
