"""Tables the web interface keeps beside the projection, and their queries.

``web_sessions`` holds signed-in browser sessions (only a SHA-256 of the
cookie's token is stored, so a copy of the table signs nobody in), and
``officer_pins`` the argon2 hash of each officer's shift-desk PIN. Neither is
derived from the log: a PIN change is recorded as the audit event
``auth.pin_set`` and sessions are records of access, not of custody.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Index,
    Integer,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)

from resguardo.storage.fast import Raw
from resguardo.storage.tables import Instant, RowKey, metadata

web_sessions = Table(
    "web_sessions", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, nullable=False),
    Column("username", String(80), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", Instant, nullable=False),
    Column("seen_at", Instant, nullable=False),
    Column("expires_at", Instant, nullable=False),
    # "web" (a cookie) or "api" (a bearer token): every session the server can end
    Column("surface", String(8), nullable=False, default="web", server_default="web"),
    Index("ix_web_sessions_user_id", "user_id"),
)

officer_pins = Table(
    "officer_pins", metadata,
    Column("officer_id", RowKey, primary_key=True, autoincrement=False),
    Column("pin_hash", String(200), nullable=False),
    Column("set_at", Instant, nullable=False),
    Column("set_by", Integer, nullable=True),
    Column("failed", Integer, nullable=False, default=0),
    Column("locked_until", Instant, nullable=True),
)

_S = web_sessions.c
_P = officer_pins.c


class WebStore:
    """Sessions and PINs on one connection (the caller's unit of work)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- sessions ------------------------------------------------------------------------

    def add_session(self, token_hash: str, user_id: int, username: str, csrf: str,
                    now: str, expires_at: str, surface: str = "web") -> None:
        self.conn.execute(insert(web_sessions).values(
            token_hash=token_hash, user_id=user_id, username=username, csrf=csrf,
            created_at=now, seen_at=now, expires_at=expires_at, surface=surface))

    def session(self, token_hash: str) -> dict[str, Any] | None:
        # on the driver's cursor (storage/fast.py): every API and web request looks one up
        row = Raw(self.conn).first(
            "SELECT token_hash, user_id, username, csrf, created_at, seen_at, expires_at,"
            " surface FROM web_sessions WHERE token_hash = ?", (token_hash,))
        return None if row is None else vars(row)

    def touch_session(self, token_hash: str, now: str) -> None:
        self.conn.execute(update(web_sessions).where(_S.token_hash == token_hash)
                          .values(seen_at=now))

    def drop_session(self, token_hash: str) -> None:
        self.conn.execute(delete(web_sessions).where(_S.token_hash == token_hash))

    def drop_sessions_of(self, user_id: int) -> int:
        """End every session of the user; how many there were."""
        return int(self.conn.execute(delete(web_sessions).where(_S.user_id == user_id))
                   .rowcount or 0)

    def drop_expired_sessions(self, now: str) -> None:
        self.conn.execute(delete(web_sessions).where(_S.expires_at < now))

    # --- PINs ---------------------------------------------------------------------------------

    def pin(self, officer_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(select(officer_pins).where(_P.officer_id == officer_id)).first()
        return None if row is None else dict(row._mapping)

    def officers_with_pin(self, officer_ids: list[int]) -> set[int]:
        if not officer_ids:
            return set()
        rows = self.conn.execute(select(_P.officer_id).where(_P.officer_id.in_(set(officer_ids))))
        return {int(r[0]) for r in rows}

    def set_pin(self, officer_id: int, pin_hash: str, now: str, set_by: int | None) -> None:
        values = {"pin_hash": pin_hash, "set_at": now, "set_by": set_by, "failed": 0,
                  "locked_until": None}
        done = self.conn.execute(update(officer_pins).where(_P.officer_id == officer_id)
                                 .values(**values))
        if done.rowcount == 0:
            self.conn.execute(insert(officer_pins).values(officer_id=officer_id, **values))

    def pin_failed(self, officer_id: int, failed: int, locked_until: str | None) -> None:
        self.conn.execute(update(officer_pins).where(_P.officer_id == officer_id)
                          .values(failed=failed, locked_until=locked_until))
