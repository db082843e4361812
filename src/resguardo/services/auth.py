"""Signing in: passwords, lockout, rate limits, TOTP, session and integration tokens.

Independent of any web framework: the HTTP API and the web interface both call
``authenticate`` with what the person typed and the network address it came
from. Every sign-in, failure and lock is recorded as an ``auth.*`` event (audit
only: the projector ignores them). The function manages its own transactions,
because a failure must be recorded even though the attempt is refused.

Session tokens are signed (HMAC, ``itsdangerous``) and expire; the signing key
is generated once and kept in the database, so every server process agrees.
Integration tokens are random, shown once, stored as SHA-256 and revoked by an
admin.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
from itsdangerous import BadSignature, URLSafeSerializer

from resguardo.domain.codes import Role
from resguardo.domain.entities import Actor, NewEvent
from resguardo.domain.errors import AuthenticationFailed, DomainError, NotFound, ValidationFailed
from resguardo.domain.policy import Action, authorize
from resguardo.domain.timefmt import iso, parse_instant
from resguardo.services import users
from resguardo.storage import api_queries as q
from resguardo.storage.uow import UnitOfWork

#: Roles that must use a second factor when the deployment requires it.
TOTP_ROLES = frozenset({Role.SUPERVISOR, Role.INSPECTOR, Role.INVESTIGATOR, Role.AUDITOR,
                        Role.ADMIN})
SESSION_PREFIX = "rs1."
API_TOKEN_PREFIX = "rgd_"
_SECRET_NAME = "session_signing_key"
_DUMMY_HASH: str | None = None


class AccountLocked(AuthenticationFailed):
    """Too many failed sign-ins: the account refuses every attempt for a while."""

    code = "account_locked"
    status = 423


class TooManyAttempts(DomainError):
    """Too many failed sign-ins from one network address in the window."""

    code = "too_many_attempts"
    status = 429


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
    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)
    address_window: timedelta = timedelta(minutes=15)
    address_limit: int = 20
    session_lifetime: timedelta = timedelta(hours=8)
    secret_key: str | None = None

    @classmethod
    def from_env(cls) -> AuthSettings:
        return cls(
            require_totp=_env_bool("RESGUARDO_REQUIRE_TOTP"),
            max_failures=5,
            lockout=timedelta(minutes=_env_number("RESGUARDO_LOCKOUT_MINUTES", 15)),
            address_window=timedelta(minutes=_env_number("RESGUARDO_LOGIN_WINDOW_MINUTES", 15)),
            address_limit=int(_env_number("RESGUARDO_LOGIN_ADDRESS_LIMIT", 20)),
            session_lifetime=timedelta(minutes=_env_number("RESGUARDO_SESSION_MINUTES", 480)),
            secret_key=os.environ.get("RESGUARDO_SECRET_KEY") or None,
        )


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = users.hash_password("not a real password, only for timing")
    return _DUMMY_HASH


def _record_failure(app: Any, *, row: Any, username: str, address: str, reason: str,
                    settings: AuthSettings) -> datetime | None:
    """Count a failed attempt and record it; returns the lock's end when this one locks."""
    locked_until = None
    with app.work(None) as uow:
        now = uow.now()
        q.add_address_failure(uow.repo, address, username, iso(now))
        q.prune_address_failures(uow.repo, iso(now - settings.address_window))
        org_id = row.scope_id if row is not None else None
        payload: dict[str, Any] = {"username": username, "address": address, "reason": reason}
        if row is not None:
            payload["user_id"] = row.id
            failures = q.count_login_failure(uow.repo, row.id)
            payload["failures"] = failures
            uow.append(NewEvent("auth.login_failed", payload, org_id=org_id))
            if failures >= settings.max_failures:
                locked_until = now + settings.lockout
                q.set_lock(uow.repo, row.id, iso(locked_until))
                uow.append(NewEvent("auth.locked", {
                    "user_id": row.id, "username": username, "address": address,
                    "failures": failures, "locked_until": iso(locked_until)}, org_id=org_id))
        else:
            uow.append(NewEvent("auth.login_failed", payload, org_id=None))
        uow.commit()
    return locked_until


def _refuse(app: Any, event_type: str, payload: dict[str, Any], org_id: int | None) -> None:
    with app.work(None) as uow:
        uow.append(NewEvent(event_type, payload, org_id=org_id))
        uow.commit()


def authenticate(app: Any, username: str, password: str, address: str, *,
                 totp: str | None = None, settings: AuthSettings | None = None) -> Actor:
    """The actor whose credentials these are, or a refusal (recorded either way).

    ``app`` is the deployment (``services.app.Resguardo``); ``address`` is the
    client's network address. Raises ``AuthenticationFailed`` (wrong name,
    password or code), ``TotpRequired``, ``TotpNotEnrolled``, ``AccountLocked``
    (423) or ``TooManyAttempts`` (429).
    """
    settings = settings or AuthSettings.from_env()
    name = (username or "").strip().lower()[:80]
    address = (address or "unknown")[:64]
    with app.read(None) as uow:
        now = uow.now()
        recent = q.address_failures_since(uow.repo, address, iso(now - settings.address_window))
        row = uow.repo.user_row(name) if name else None
    if recent >= settings.address_limit:
        _refuse(app, "auth.rate_limited", {"username": name, "address": address,
                                           "failures": recent},
                row.scope_id if row is not None else None)
        raise TooManyAttempts("too many failed sign-ins from this address; try again later",
                              retry_after=int(settings.address_window.total_seconds()))
    if row is not None and row.locked_until and parse_instant(row.locked_until) > now:
        _refuse(app, "auth.login_refused", {"user_id": row.id, "username": name,
                                            "address": address, "reason": "locked"},
                row.scope_id)
        raise AccountLocked("the account is locked after repeated failed sign-ins",
                            locked_until=row.locked_until)
    # argon2 runs outside any transaction: a slow hash must not hold the write lock
    ok = users.verify_password(row.password_hash if row is not None else _dummy_hash(),
                               password or "")
    if row is None or not row.active or not ok:
        reason = "unknown_user" if row is None else ("disabled" if not row.active
                                                     else "wrong_password")
        until = _record_failure(app, row=row, username=name, address=address, reason=reason,
                                settings=settings)
        if until is not None:
            raise AccountLocked("the account is locked after repeated failed sign-ins",
                                locked_until=iso(until))
        raise AuthenticationFailed("wrong username or password")
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
            until = _record_failure(app, row=row, username=name, address=address,
                                    reason="wrong_totp", settings=settings)
            if until is not None:
                raise AccountLocked("the account is locked after repeated failed sign-ins",
                                    locked_until=iso(until))
            raise AuthenticationFailed("wrong authenticator code")
        method = "password+totp"
    with app.work(name) as uow:
        if row.failed_logins or row.locked_until:
            q.set_lock(uow.repo, row.id, None)
        uow.append(NewEvent("auth.login", {"user_id": row.id, "username": name,
                                           "address": address, "method": method},
                            org_id=row.scope_id))
        actor = uow.actor
        uow.commit()
    assert actor is not None
    return actor


# --- session tokens ------------------------------------------------------------------------------

_SERIALIZERS: dict[str, URLSafeSerializer] = {}


def _serializer(app: Any, settings: AuthSettings) -> URLSafeSerializer:
    key = settings.secret_key or f"db:{app.settings.database_url}"
    found = _SERIALIZERS.get(key)
    if found is None:
        secret = settings.secret_key
        if secret is None:
            with app.work(None) as uow:
                secret = q.secret(uow.repo, _SECRET_NAME, secrets.token_urlsafe(48),
                                  iso(uow.now()))
                uow.commit()
        found = URLSafeSerializer(secret, salt="resguardo.session")
        _SERIALIZERS[key] = found
    return found


@dataclass(frozen=True)
class Session:
    token: str
    expires_at: datetime


def issue_session(app: Any, actor: Actor, settings: AuthSettings | None = None) -> Session:
    """A signed bearer token for the actor, valid for the configured lifetime."""
    settings = settings or AuthSettings.from_env()
    expires = app.clock() + settings.session_lifetime
    body = _serializer(app, settings).dumps({"u": actor.user_id, "n": actor.username,
                                             "e": int(expires.timestamp())})
    return Session(SESSION_PREFIX + str(body), expires)


#: Signatures already checked: (signing key, token) -> (username, expiry). A token is
#: immutable, so its signature needs checking once; its expiry is checked every time.
_VERIFIED: OrderedDict[tuple[int, str], tuple[str, int]] = OrderedDict()
_VERIFIED_MAX = 4096
_VERIFIED_LOCK = threading.Lock()


def session_username(app: Any, token: str, settings: AuthSettings | None = None) -> str:
    """The username a session token was issued to, if the token is genuine and current."""
    settings = settings or AuthSettings.from_env()
    serializer = _serializer(app, settings)
    key = (id(serializer), token)
    found = _VERIFIED.get(key)
    if found is None:
        try:
            data = serializer.loads(token.removeprefix(SESSION_PREFIX))
        except BadSignature:
            raise AuthenticationFailed("the token is not valid") from None
        if not isinstance(data, dict) or not isinstance(data.get("n"), str):
            raise AuthenticationFailed("the token is not valid")
        found = (data["n"], int(data.get("e", 0)))
        with _VERIFIED_LOCK:
            _VERIFIED[key] = found
            while len(_VERIFIED) > _VERIFIED_MAX:
                _VERIFIED.popitem(last=False)
    if found[1] <= app.clock().timestamp():
        raise AuthenticationFailed("the token has expired; sign in again")
    return found[0]


# --- integration tokens ----------------------------------------------------------------------------

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_username(app: Any, token: str) -> str:
    """The owner of a live integration token."""
    with app.read(None) as uow:
        found = q.token_owner(uow.repo, _digest(token))
        now = uow.now()
    if found is None or found["revoked_at"] is not None or not found["active"]:
        raise AuthenticationFailed("the token is not valid")
    if found["expires_at"] is not None and parse_instant(found["expires_at"]) <= now:
        raise AuthenticationFailed("the token has expired")
    return str(found["username"])


def bearer_username(app: Any, token: str, settings: AuthSettings | None = None) -> str:
    """The username behind a bearer token of either kind."""
    if token.startswith(API_TOKEN_PREFIX):
        return token_username(app, token)
    if token.startswith(SESSION_PREFIX):
        return session_username(app, token, settings)
    raise AuthenticationFailed("the token is not valid")


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
    """A new integration token for ``username``: (id, the token, shown only now)."""
    label = (name or "").strip()
    if not label or len(label) > 200 or any(ord(c) < 32 for c in label):
        raise ValidationFailed("name the token (1-200 printable characters)", field="name")
    if uow.actor is not None:
        authorize(uow.actor, Action.USER_MANAGE)
    owner = _managed_user(uow, username)
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
