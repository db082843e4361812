"""Browser sessions: sign in, look a session up, sign out.

The cookie carries a random token; the database keeps only its SHA-256, the
user it belongs to, a CSRF token bound to it and its expiry. Signing out or
disabling the account ends the session on the server, not just in the browser.
Checking the password, the lockout and the TOTP code is
``services.auth.authenticate``'s job; a session starts once it has said yes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta

from resguardo.domain.entities import Actor, NewEvent
from resguardo.domain.timefmt import iso, parse_instant
from resguardo.storage.uow import UnitOfWork
from resguardo.storage.web_tables import WebStore

#: A session ends after this long idle, or ``lifetime()`` after signing in.
IDLE = timedelta(hours=2)


def lifetime() -> timedelta:
    """How long a session lasts: RESGUARDO_SESSION_MINUTES (as for API sessions), default 8 h."""
    raw = os.environ.get("RESGUARDO_SESSION_MINUTES") or ""
    try:
        minutes = float(raw) if raw.strip() else 480.0
    except ValueError:
        minutes = 480.0
    return timedelta(minutes=max(minutes, 5.0))


_TOUCH_EVERY = timedelta(minutes=5)


@dataclass(frozen=True)
class WebSession:
    token_hash: str
    user_id: int
    username: str
    csrf: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(uow: UnitOfWork, actor: Actor) -> str:
    """Start a session for someone whose credentials were checked; returns the cookie token."""
    assert actor.user_id is not None
    token = secrets.token_urlsafe(32)
    now = uow.now()
    store = WebStore(uow.conn)
    store.drop_expired_sessions(iso(now))
    store.add_session(_digest(token), actor.user_id, actor.username, secrets.token_urlsafe(32),
                      iso(now), iso(now + lifetime()))
    return token


def find_session(uow: UnitOfWork, token: str | None) -> tuple[WebSession | None, str | None]:
    """The live session for a cookie token (or None), and what upkeep it needs.

    The upkeep is ``"drop"`` for an expired or idle session, ``"touch"`` when the
    idle clock is due a refresh, else None; ``keep_session`` does it in a unit
    of work that writes, so looking a session up never writes.
    """
    if not token or len(token) > 128:
        return None, None
    key = _digest(token)
    row = WebStore(uow.conn).session(key)
    if row is None:
        return None, None
    now = uow.now()
    seen = parse_instant(row["seen_at"])
    session = WebSession(key, int(row["user_id"]), row["username"], row["csrf"])
    if parse_instant(row["expires_at"]) <= now or now - seen > IDLE:
        return None, "drop"
    return session, ("touch" if now - seen > _TOUCH_EVERY else None)


def keep_session(uow: UnitOfWork, token: str, upkeep: str) -> None:
    store = WebStore(uow.conn)
    if upkeep == "drop":
        store.drop_session(_digest(token))
    elif upkeep == "touch":
        store.touch_session(_digest(token), iso(uow.now()))


def close_session(uow: UnitOfWork, token: str | None, scope_id: int | None = None) -> None:
    """End a session on the server (the cookie alone no longer signs anyone in)."""
    if not token:
        return
    key = _digest(token)
    store = WebStore(uow.conn)
    row = store.session(key)
    if row is None:
        return
    store.drop_session(key)
    uow.append(NewEvent("auth.web_logout", {"user_id": row["user_id"],
                                            "username": row["username"]}, org_id=scope_id))


def same_token(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
