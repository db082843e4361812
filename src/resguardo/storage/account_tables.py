"""Tables that tie every act to one person, beside the projection.

``event_credentials`` says which credential wrote which entries: one row per
committed unit of work that appended anything, covering its consecutive
positions ``[first_position, end_position)``. The credential is a short text,
``surface:kind:id`` (``web:session:3f9a...``, ``api:token:12``, ``cli:password``,
``cli:local``), never the secret itself. One row per commit instead of a column
per entry keeps bulk imports (millions of entries in a few commits) as fast as
before.

``power_requests`` holds grants of power (accounts with write rights, role or
scope changes, password resets, service accounts) that an admin asked for and
a second admin must approve.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    update,
)

from resguardo.storage import tables as t
from resguardo.storage.tables import Instant, RowKey, metadata

event_credentials = Table(
    "event_credentials", metadata,
    Column("first_position", RowKey, primary_key=True, autoincrement=False),
    Column("end_position", BigInteger, nullable=False),
    Column("credential", String(80), nullable=False),
)

power_requests = Table(
    "power_requests", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("username", String(80), nullable=False),
    Column("scope_id", BigInteger, nullable=False),
    Column("details", Text, nullable=False),
    Column("requested_by", Integer, nullable=False),
    Column("requested_at", Instant, nullable=False),
    Column("decided_by", Integer, nullable=True),
    Column("decided_at", Instant, nullable=True),
    Column("status", String(16), nullable=False),
)

_C = event_credentials.c
_R = power_requests.c


def record_credential(conn: Connection, first: int, end: int, credential: str) -> None:
    """Entries ``first`` .. ``end - 1`` were written with ``credential``."""
    conn.execute(insert(event_credentials).values(first_position=first, end_position=end,
                                                  credential=credential[:80]))


def credential_of(conn: Connection, position: int) -> str | None:
    """The credential the entry at ``position`` was written with (None: the system, or an
    entry written before credentials were recorded)."""
    row = conn.execute(select(_C.end_position, _C.credential)
                       .where(_C.first_position <= position)
                       .order_by(_C.first_position.desc()).limit(1)).first()
    if row is None or position >= int(row.end_position):
        return None
    return str(row.credential)


# --- accounts ---------------------------------------------------------------------------------

def set_account(conn: Connection, username: str, **values: Any) -> None:
    """Change columns of one account (active, role, scope_id, must_change_password)."""
    conn.execute(update(t.users).where(t.users.c.username == username).values(**values))


def person_admins(conn: Connection) -> int:
    """How many person accounts with the admin role the deployment has ever had."""
    u = t.users.c
    return int(conn.execute(select(func.count()).select_from(t.users).where(
        u.role == "admin", u.kind == "person")).scalar_one())


# --- grants of power awaiting a second admin -----------------------------------------------

def add_power_request(conn: Connection, *, kind: str, username: str, scope_id: int,
                      details: dict[str, Any], requested_by: int, now: str) -> int:
    result = conn.execute(insert(power_requests).values(
        kind=kind, username=username, scope_id=scope_id,
        details=json.dumps(details, sort_keys=True), requested_by=requested_by,
        requested_at=now, status="pending"))
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def power_request(conn: Connection, request_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(power_requests).where(_R.id == request_id)).first()
    if row is None:
        return None
    found = dict(row._mapping)
    found["details"] = json.loads(found["details"])
    return found


def pending_power_requests(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(power_requests).where(_R.status == "pending")
                        .order_by(_R.id))
    out = []
    for row in rows:
        found = dict(row._mapping)
        found["details"] = json.loads(found["details"])
        out.append(found)
    return out


def recent_power_requests(conn: Connection, since: str) -> list[dict[str, Any]]:
    """Requests still pending, or asked for since ``since``."""
    rows = conn.execute(select(power_requests).where(
        (_R.status == "pending") | (_R.requested_at >= since)).order_by(_R.id))
    out = []
    for row in rows:
        found = dict(row._mapping)
        found["details"] = json.loads(found["details"])
        out.append(found)
    return out


def decide_power_request(conn: Connection, request_id: int, status: str, decided_by: int,
                         now: str) -> None:
    conn.execute(update(power_requests).where(_R.id == request_id).values(
        status=status, decided_by=decided_by, decided_at=now))
