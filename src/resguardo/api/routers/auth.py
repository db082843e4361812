"""Signing in and finding out who you are."""

from __future__ import annotations

from fastapi import APIRouter, Request

from resguardo.api.dependencies import Reader, SecretWriter, Writer
from resguardo.api.errors import error_responses
from resguardo.api.routing import needs
from resguardo.api.schemas.access import LoginIn, MeOut, SessionsEndedOut, TokenOut, TotpOut
from resguardo.domain.errors import ValidationFailed
from resguardo.domain.policy import PERMISSIONS
from resguardo.services import accounts, auth, sessions

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=TokenOut,
             responses=error_responses(401, 403, 422, 423, 429, 500, 503),
             openapi_extra=needs("none"))
def sign_in(body: LoginIn, request: Request) -> TokenOut:
    """Exchange a username and password (and TOTP code) for a session token.

    Failures slow down that name at that address with growing delays, and many
    failures from one address slow the address (429 with `Retry-After`); they
    never lock the account for its owner elsewhere. A name that does not exist
    answers exactly like a wrong password. Wrong authenticator codes after the
    right password lock the account until an admin lifts it (423). Every
    sign-in, failure, delay and lock is recorded in the log. The session lives
    on the server: send the token as `Authorization: Bearer ...`; it ends at
    sign-out, at a password change, a lock or when the account is disabled.
    """
    state = request.app.state
    address = request.client.host if request.client else "unknown"
    actor = auth.authenticate(state.resguardo, body.username, body.password, address,
                              totp=body.totp, settings=state.auth_settings,
                              new_password=body.new_password)
    session = auth.issue_session(state.resguardo, actor, state.auth_settings)
    return TokenOut(access_token=session.token, expires_at=session.expires_at)


@router.post("/logout", response_model=SessionsEndedOut, responses=error_responses(),
             openapi_extra=needs("none"))
def sign_out(caller: Writer, everywhere: bool = False) -> object:
    """End this session on the server (`everywhere=true`: every session of yours, web and
    API). An integration token is not a session: an admin revokes it."""
    def run(uow):  # type: ignore[no-untyped-def]
        assert uow.actor is not None
        if not caller.token.startswith(auth.SESSION_PREFIX):
            raise ValidationFailed("an integration token is not a session; an admin revokes "
                                   "it", field="token")
        if everywhere:
            return accounts.sign_out_everywhere(uow)
        sessions.close_session(uow, caller.token.removeprefix(auth.SESSION_PREFIX),
                               uow.actor.scope.id)
        return 1
    return caller.write(run, lambda uow, n: SessionsEndedOut(sessions=n), status=200)


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
