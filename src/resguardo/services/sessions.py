"""Sessions the server can end: sign in, look a session up, sign out.

A browser's cookie and an API client's bearer session token both carry a
random token; the database keeps only its SHA-256, the user it belongs to, the
surface it was opened on (``web`` or ``api``), a CSRF token bound to it and its
expiry. Every request looks its session up, so nothing the client holds (no
expiry, no signature) keeps a session alive once the server has ended it:
at sign-out, "sign out everywhere", a password change or reset, a lock,
disabling the account and a change of role or scope (``end_sessions``).
Checking the password, the throttle and the TOTP code is
``services.auth.authenticate``'s job; a session starts once it has said yes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from resguardo.domain.entities import Actor, NewEvent
from resguardo.domain.timefmt import iso, parse_instant
from resguardo.storage.uow import Connection, UnitOfWork
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


SURFACES = ("web", "api")


@dataclass(frozen=True)
class WebSession:
    token_hash: str
    user_id: int
    username: str
    csrf: str
    surface: str = "web"

    @property
    def credential(self) -> str:
        """How entries written in this session name it (never the token itself)."""
        return f"{self.surface}:session:{self.token_hash[:16]}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(uow: UnitOfWork, actor: Actor, surface: str = "web") -> str:
    """Start a session for someone whose credentials were checked; returns its token."""
    assert actor.user_id is not None and surface in SURFACES
    token = secrets.token_urlsafe(32)
    now = uow.now()
    store = WebStore(uow.conn)
    store.drop_expired_sessions(iso(now))
    store.add_session(_digest(token), actor.user_id, actor.username, secrets.token_urlsafe(32),
                      iso(now), iso(now + lifetime()), surface)
    return token


def session_expiry(uow: UnitOfWork, token: str) -> str | None:
    """When the session with this token ends at the latest (None: no such session)."""
    row = WebStore(uow.conn).session(_digest(token))
    return None if row is None else str(row["expires_at"])


def find_session(uow: UnitOfWork, token: str | None,
                 surface: str = "web") -> tuple[WebSession | None, str | None]:
    """The live session for a token opened on ``surface`` (or None), and its upkeep.

    The upkeep is ``"drop"`` for an expired or idle session, ``"touch"`` when the
    idle clock is due a refresh, else None; ``keep_session`` does it in a unit
    of work that writes, so looking a session up never writes.
    """
    return lookup(uow.conn, uow.now(), token, surface)


def lookup(conn: Connection, now: datetime, token: str | None,
           surface: str) -> tuple[WebSession | None, str | None]:
    """``find_session`` on a connection (inside another unit of work's transaction)."""
    if not token or len(token) > 128:
        return None, None
    key = _digest(token)
    row = WebStore(conn).session(key)
    if row is None or row["surface"] != surface:
        return None, None
    seen = parse_instant(row["seen_at"])
    session = WebSession(key, int(row["user_id"]), row["username"], row["csrf"], surface)
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
    """End a session on the server (the token alone no longer signs anyone in)."""
    if not token:
        return
    key = _digest(token)
    store = WebStore(uow.conn)
    row = store.session(key)
    if row is None:
        return
    store.drop_session(key)
    kind = "auth.web_logout" if row["surface"] == "web" else "auth.logout"
    uow.append(NewEvent(kind, {"user_id": row["user_id"], "username": row["username"],
                               "session": key[:16]}, org_id=scope_id))


def end_sessions(uow: UnitOfWork, user_id: int, username: str, reason: str,
                 scope_id: int | None) -> int:
    """End every session of one account, web and API (its integration tokens are the
    admin's to revoke); recorded as ``auth.sessions_ended`` with the reason. Returns
    how many sessions ended."""
    store = WebStore(uow.conn)
    ended = store.drop_sessions_of(user_id)
    uow.append(NewEvent("auth.sessions_ended", {"user_id": user_id, "username": username,
                                                "reason": reason, "sessions": ended},
                        org_id=scope_id))
    return ended


def same_token(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
