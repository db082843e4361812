"""Signing in: passwords, throttling, locks, TOTP, session and integration tokens.

Independent of any web framework: the HTTP API and the web interface both call
``authenticate`` with what the person typed and the network address it came
from. Every sign-in, failure and lock is recorded as an ``auth.*`` event (audit
only: the projector ignores them). The function manages its own transactions,
because a failure must be recorded even though the attempt is refused.

Session tokens are random and kept on the server (``services.sessions``): every
request looks its session up, so the server ends it at sign-out, a password
change, a lock, a disable or a change of role or scope, and no key in the
database can forge one. Integration tokens belong to service accounts only;
they are random, shown once, stored as SHA-256 and revoked by an admin.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp

from resguardo.domain.codes import Role
from resguardo.domain.entities import Actor, NewEvent
from resguardo.domain.errors import (
    T_,
    AuthenticationFailed,
    DomainError,
    NotFound,
    ValidationFailed,
)
from resguardo.domain.policy import Action, authorize
from resguardo.domain.timefmt import iso, parse_instant
from resguardo.services import sessions, users
from resguardo.storage import api_queries as q
from resguardo.storage.repositories import Repositories
from resguardo.storage.uow import UnitOfWork

#: Roles that must use a second factor when the deployment requires it.
TOTP_ROLES = frozenset({Role.SUPERVISOR, Role.INSPECTOR, Role.INVESTIGATOR, Role.AUDITOR,
                        Role.ADMIN})
SESSION_PREFIX = "rs1."
API_TOKEN_PREFIX = "rgd_"
_DUMMY_HASH: str | None = None


class AccountLocked(AuthenticationFailed):
    """Locked until an admin lifts it (wrong authenticator codes after a right password)."""

    code = "account_locked"
    status = 423


class TooManyAttempts(DomainError):
    """Too many failed sign-ins from one network address in the window."""

    code = "too_many_attempts"
    status = 429


class PasswordChangeRequired(AuthenticationFailed):
    """The password was a one-time password from an admin's reset: choose your own."""

    code = "password_change_required"
    status = 403


class TotpRequired(AuthenticationFailed):
    """The password was right; the account also needs its authenticator code."""

    code = "totp_required"


class TotpNotEnrolled(AuthenticationFailed):
    """The deployment requires a second factor for this role and none is set up."""

    code = "totp_not_enrolled"


def _env_bool(name: str) -> bool:
    return (os.environ.get(name) or "").strip().lower() in {"1", "true", "yes", "on"}


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a number, got {raw!r}") from None


@dataclass(frozen=True)
class AuthSettings:
    """How strict sign-in is; read from the environment (see the README)."""

    require_totp: bool = False
    address_window: timedelta = timedelta(minutes=15)
    address_limit: int = 20

    @classmethod
    def from_env(cls) -> AuthSettings:
        return cls(
            require_totp=_env_bool("RESGUARDO_REQUIRE_TOTP"),
            address_window=timedelta(minutes=_env_number("RESGUARDO_LOGIN_WINDOW_MINUTES", 15)),
            address_limit=int(_env_number("RESGUARDO_LOGIN_ADDRESS_LIMIT", 20)),
        )


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = users.hash_password("not a real password, only for timing")
    return _DUMMY_HASH


#: Failed sign-ins for one name from one address before any delay; each one after
#: doubles the delay, from one second up to the address window.
FREE_FAILURES = 3
#: Wrong authenticator codes after a right password before the account is locked
#: until an admin lifts it: whoever typed them knows the password.
TOTP_FAILURES_TO_LOCK = 3
#: ``locked_until`` of a lock only an admin lifts.
UNTIL_LIFTED = "9999-12-31T23:59:59.999999Z"


def delay_after(failures: int, cap: timedelta) -> timedelta:
    """How long one name waits at one address after ``failures`` failures in a row."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(failures - FREE_FAILURES, 20)), cap)


def _record_failure(app: Any, *, row: Any, username: str, address: str, reason: str,
                    settings: AuthSettings) -> None:
    """Count a failed attempt against the name at this address, and record it."""
    with app.work(None) as uow:
        now = uow.now()
        q.add_address_failure(uow.repo, address, username, iso(now))
        q.prune_address_failures(uow.repo, iso(now - settings.address_window))
        payload: dict[str, Any] = {"username": username, "address": address, "reason": reason}
        if row is not None:
            payload["user_id"] = row.id
        uow.append(NewEvent("auth.login_failed", payload,
                            org_id=row.scope_id if row is not None else None))
        uow.commit()


def _wrong_second_factor(app: Any, row: Any, username: str, address: str) -> bool:
    """Record a wrong authenticator code after a right password; True when this one locks
    the account (until an admin lifts it, ending its sessions)."""
    with app.work(None) as uow:
        failures = q.count_login_failure(uow.repo, row.id)
        uow.append(NewEvent("auth.login_failed", {
            "user_id": row.id, "username": username, "address": address,
            "reason": "wrong_totp", "failures": failures}, org_id=row.scope_id))
        locked = failures >= TOTP_FAILURES_TO_LOCK
        if locked:
            q.set_lock(uow.repo, row.id, UNTIL_LIFTED)
            uow.append(NewEvent("auth.locked", {
                "user_id": row.id, "username": username, "address": address,
                "failures": failures, "reason": "second_factor_after_right_password",
                "locked_until": UNTIL_LIFTED}, org_id=row.scope_id))
            sessions.end_sessions(uow, row.id, username, "locked", row.scope_id)
        uow.commit()
    return locked


def _refuse(app: Any, event_type: str, payload: dict[str, Any], org_id: int | None) -> None:
    with app.work(None) as uow:
        uow.append(NewEvent(event_type, payload, org_id=org_id))
        uow.commit()


def authenticate(app: Any, username: str, password: str, address: str, *,
                 totp: str | None = None, settings: AuthSettings | None = None,
                 new_password: str | None = None) -> Actor:
    """The actor whose credentials these are, or a refusal (recorded either way).

    ``app`` is the deployment (``services.app.Resguardo``); ``address`` is the
    client's network address. Failures slow down the name *at that address*
    (``delay_after``) and, past a limit, the address itself; they never lock the
    account for everyone, so a stranger's guesses cannot keep its owner out. A
    name that does not exist, a disabled account, a service account and a wrong
    password get the same words after the same work (a password hash is checked
    either way). Raises ``AuthenticationFailed``, ``TotpRequired``,
    ``TotpNotEnrolled``, ``AccountLocked`` (423: only to someone who gave the
    right password, after wrong authenticator codes locked the account until an
    admin lifts it), ``TooManyAttempts`` (429, with ``retry_after``) or
    ``PasswordChangeRequired`` (403: the password was a one-time password from an
    admin's reset; sign in again giving ``new_password``, which replaces it).
    """
    settings = settings or AuthSettings.from_env()
    name = (username or "").strip().lower()[:80]
    address = (address or "unknown")[:64]
    with app.read(None) as uow:
        now = uow.now()
        since = iso(now - settings.address_window)
        recent = q.address_failures_since(uow.repo, address, since)
        pair, last = q.pair_failures_since(uow.repo, address, name, since)
        row = uow.repo.user_row(name) if name else None
    org_id = row.scope_id if row is not None else None
    wait = timedelta(0)
    if recent >= settings.address_limit:
        wait = settings.address_window
    elif last is not None:
        wait = parse_instant(last) + delay_after(pair, settings.address_window) - now
    if wait > timedelta(0):
        # a refused attempt counts too: hammering only lengthens the wait, from now
        wait = (settings.address_window if recent >= settings.address_limit
                else delay_after(pair + 1, settings.address_window))
        with app.work(None) as uow:
            q.add_address_failure(uow.repo, address, name, iso(now))
            uow.append(NewEvent("auth.rate_limited", {"username": name, "address": address,
                                                      "failures": max(recent, pair)},
                                org_id=org_id))
            uow.commit()
        raise TooManyAttempts("too many failed sign-ins from this address; try again later",
                              retry_after=max(1, int(wait.total_seconds() + 0.999)))
    # argon2 runs outside any transaction: a slow hash must not hold the write lock
    person = row is not None and row.kind == "person"
    ok = users.verify_password(row.password_hash if row is not None and person
                               else _dummy_hash(), password or "")
    if row is None or not person or not row.active or not ok:
        reason = ("unknown_user" if row is None else "service_account" if not person
                  else "disabled" if not row.active else "wrong_password")
        _record_failure(app, row=row, username=name, address=address, reason=reason,
                        settings=settings)
        raise AuthenticationFailed("wrong username or password")
    if row.locked_until and parse_instant(row.locked_until) > now:
        _refuse(app, "auth.login_refused", {"user_id": row.id, "username": name,
                                            "address": address, "reason": "locked"},
                row.scope_id)
        raise AccountLocked("the account is locked: ask an administrator to unlock it",
                            locked_until=row.locked_until)
    role = Role(row.role)
    needs_totp = bool(row.totp_secret) or (settings.require_totp and role in TOTP_ROLES)
    method = "password"
    if needs_totp:
        if not row.totp_secret:
            _refuse(app, "auth.login_refused", {"user_id": row.id, "username": name,
                                                "address": address,
                                                "reason": "totp_not_enrolled"}, row.scope_id)
            raise TotpNotEnrolled("this role needs a second factor; ask an administrator "
                                  "to enrol an authenticator app")
        code = (totp or "").replace(" ", "")
        if not code:
            raise TotpRequired("enter the code from your authenticator app")
        if not pyotp.TOTP(row.totp_secret).verify(code, for_time=now, valid_window=1):
            if _wrong_second_factor(app, row, name, address):
                raise AccountLocked("the account is locked: ask an administrator to unlock it",
                                    locked_until=UNTIL_LIFTED)
            raise AuthenticationFailed("wrong authenticator code")
        method = "password+totp"
    if row.must_change_password:
        if not new_password:
            raise PasswordChangeRequired("this is a one-time password: choose a new password "
                                         "to sign in", field="new_password")
        if new_password == password:
            raise ValidationFailed("the new password must differ from the one-time password",
                                   field="new_password")
    with app.work(name) as uow:
        if row.must_change_password:
            assert new_password is not None
            users.set_password(uow, name, new_password)  # own change: ends the old sessions
        if row.failed_logins:
            q.set_lock(uow.repo, row.id, None)
        q.forget_pair_failures(uow.repo, address, name)
        uow.append(NewEvent("auth.login", {"user_id": row.id, "username": name,
                                           "address": address, "method": method},
                            org_id=row.scope_id))
        actor = uow.actor
        uow.commit()
    assert actor is not None
    return actor


# --- session tokens ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Session:
    token: str
    expires_at: datetime


def issue_session(app: Any, actor: Actor, settings: AuthSettings | None = None) -> Session:
    """A bearer session token for the actor, kept on the server (see ``services.sessions``).

    The token is random and says nothing; the server keeps its SHA-256 and its
    expiry, so it ends whenever the server ends it, whatever the client holds.
    """
    with app.work(None) as uow:
        token = sessions.open_session(uow, actor, "api")
        expires = sessions.session_expiry(uow, token)
        uow.commit()
    assert expires is not None
    return Session(SESSION_PREFIX + token, parse_instant(expires))


def session_actor(conn: Any, now: datetime, token: str) -> tuple[Actor, str | None]:
    """The actor of a live API session token, looked up on ``conn`` (inside the request's
    own transaction), with its credential; and the session's upkeep (see
    ``sessions.find_session``). AuthenticationFailed when the session has ended, NotFound
    when the account is disabled."""
    session, upkeep = sessions.lookup(conn, now, token.removeprefix(SESSION_PREFIX), "api")
    if session is None:
        raise AuthenticationFailed("the session has expired or ended; sign in again")
    actor = Repositories(conn, None).actor_for(session.username)
    if actor.user_id != session.user_id:
        raise AuthenticationFailed("the session has expired or ended; sign in again")
    return dataclasses.replace(actor, credential=session.credential), upkeep


def keep_session(app: Any, token: str, upkeep: str) -> None:
    """Refresh (or drop) an API session's idle clock, in a short write of its own."""
    with app.work(None) as uow:
        sessions.keep_session(uow, token.removeprefix(SESSION_PREFIX), upkeep)
        uow.commit()


def session_caller(app: Any, token: str) -> tuple[str, str]:
    """(username, credential) of a live API session token, or AuthenticationFailed."""
    raw = token.removeprefix(SESSION_PREFIX)
    with app.read(None) as uow:
        session, upkeep = sessions.find_session(uow, raw, "api")
    if upkeep:
        with app.work(None) as uow:
            sessions.keep_session(uow, raw, upkeep)
            uow.commit()
    if session is None:
        raise AuthenticationFailed("the session has expired or ended; sign in again")
    return session.username, session.credential


# # --- integration tokens ----------------------------------------------------------------------------

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_caller(app: Any, token: str, surface: str = "api") -> tuple[str, str]:
    """(owner, credential) of a live integration token; the owner is a service account."""
    with app.read(None) as uow:
        found = q.token_owner(uow.repo, _digest(token))
        now = uow.now()
    if found is None or found["revoked_at"] is not None or not found["active"] or \
            found["kind"] != "service":
        raise AuthenticationFailed("the token is not valid")
    if found["expires_at"] is not None and parse_instant(found["expires_at"]) <= now:
        raise AuthenticationFailed("the token has expired")
    return str(found["username"]), f"{surface}:token:{found['id']}"


def bearer_caller(app: Any, token: str) -> tuple[str, str]:
    """(username, credential) behind a bearer token of either kind."""
    if token.startswith(API_TOKEN_PREFIX):
        return token_caller(app, token)
    if token.startswith(SESSION_PREFIX):
        return session_caller(app, token)
    raise AuthenticationFailed("the token is not valid")


def bearer_username(app: Any, token: str, settings: AuthSettings | None = None) -> str:
    """The username behind a bearer token of either kind."""
    return bearer_caller(app, token)[0]


def _managed_user(uow: UnitOfWork, username: str) -> dict:
    """A user the acting admin manages (in scope), or NotFound."""
    found = q.user_in_scope(uow.repo, (username or "").strip().lower())
    if found is None:
        raise NotFound(f"user {username} not found", user=username)
    if uow.actor is not None:
        authorize(uow.actor, Action.USER_MANAGE, uow.repo.org_unscoped(found["scope_id"]).path,
                  "user")
    return found


def create_api_token(uow: UnitOfWork, username: str, name: str, *,
                     expires_at: datetime | None = None) -> tuple[int, str]:
    """A new integration token for the service account ``username``: (id, the token, shown
    only now). A person never gets one: an admin holding a token that acts as the armorer
    could fill both halves of a two-person rule."""
    label = (name or "").strip()
    if not label or len(label) > 200 or any(ord(c) < 32 for c in label):
        raise ValidationFailed("name the token (1-200 printable characters)", field="name")
    if uow.actor is not None:
        authorize(uow.actor, Action.USER_MANAGE)
    owner = _managed_user(uow, username)
    if uow.repo.user_row(owner["username"]).kind != "service":
        raise ValidationFailed(T_("%(user)s is a person: tokens are only for service "
                                  "accounts (a person signs in)"), field="username",
                               user=owner["username"])
    now = uow.now()
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed("the expiry is in the past", field="expires_at")
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    uow.lock()
    token_id = q.insert_token(uow.repo, user_id=owner["id"], name=label,
                              token_hash=_digest(token), prefix=token[:12],
                              created_at=iso(now),
                              created_by=uow.actor.user_id if uow.actor else None,
                              expires_at=iso(expires_at) if expires_at else None)
    uow.append(NewEvent("token.created", {"token_id": token_id, "user_id": owner["id"],
                                          "username": owner["username"], "name": label,
                                          "expires_at": iso(expires_at) if expires_at else None},
                        org_id=owner["scope_id"]))
    return token_id, token


def revoke_api_token(uow: UnitOfWork, token_id: int) -> dict:
    """Revoke a token; it stops working at once."""
    if uow.actor is not None:
        authorize(uow.actor, Action.USER_MANAGE)
    found = q.token_in_scope(uow.repo, token_id)
    if found is None:
        raise NotFound("token not found")
    owner = _managed_user(uow, found["username"])
    if found["revoked_at"] is not None:
        from resguardo.domain.errors import Conflict
        raise Conflict("the token is already revoked", revoked_at=found["revoked_at"])
    uow.lock()
    now = iso(uow.now())
    q.revoke_token(uow.repo, token_id, now, uow.actor.user_id if uow.actor else None)
    uow.append(NewEvent("token.revoked", {"token_id": token_id, "user_id": owner["id"],
                                          "username": owner["username"]},
                        org_id=owner["scope_id"]))
    return {**found, "revoked_at": now}


# --- second factor and unlocking ---------------------------------------------------------------------

def enroll_totp(uow: UnitOfWork, username: str, issuer: str = "Resguardo") -> tuple[str, str]:
    """Give the user a new TOTP secret: (secret, otpauth:// URI), shown only now.

    An admin enrols users in scope; anyone may enrol (or re-enrol) themselves.
    """
    name = (username or "").strip().lower()
    if uow.actor is not None and uow.actor.username == name:
        row = uow.repo.user_row(name)
        target = {"id": row.id, "username": row.username, "scope_id": row.scope_id}
    else:
        target = _managed_user(uow, name)
    secret = pyotp.random_base32()
    uow.lock()
    q.set_totp_secret(uow.repo, target["id"], secret)
    uow.append(NewEvent("user.totp_enrolled", {"user_id": target["id"],
                                               "username": target["username"]},
                        org_id=target["scope_id"]))
    uri = pyotp.TOTP(secret).provisioning_uri(name=target["username"], issuer_name=issuer)
    return secret, uri


def remove_totp(uow: UnitOfWork, username: str) -> None:
    target = _managed_user(uow, username)
    uow.lock()
    q.set_totp_secret(uow.repo, target["id"], None)
    uow.append(NewEvent("user.totp_removed", {"user_id": target["id"],
                                              "username": target["username"]},
                        org_id=target["scope_id"]))


def unlock(uow: UnitOfWork, username: str) -> None:
    """Lift a lock and forget the failed attempts (admin)."""
    target = _managed_user(uow, username)
    uow.lock()
    q.set_lock(uow.repo, target["id"], None)
    uow.append(NewEvent("user.unlocked", {"user_id": target["id"],
                                          "username": target["username"]},
                        org_id=target["scope_id"]))
