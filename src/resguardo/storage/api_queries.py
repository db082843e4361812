"""Queries the HTTP API needs beyond ``Repositories``.

Each function takes the unit of work's ``Repositories`` and, for anything an
agency owns, restricts rows with its ``in_scope`` clause: the same single scope
path every other read goes through. Lists return a ``Page``. The webhooks'
queries are in ``webhook_queries``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from resguardo.storage import scoped
from resguardo.storage import tables as t
from resguardo.storage.api_tables import (
    api_secrets,
    api_tokens,
    auth_failures,
    idempotency_keys,
)
from resguardo.storage.repositories import Page, Repositories, officer_from_row
from resguardo.storage.scoped import BoundScope, ScopeKind

#: Rows a list answers with at most, whatever the client asks.
MAX_LIMIT = 500


def insert_ignoring_conflicts(conn: Connection, table: Any, values: dict[str, Any]) -> bool:
    """Insert unless the primary key or a unique key is taken; True when inserted.

    On PostgreSQL a concurrent transaction holding the same key makes this wait
    until it ends, so the caller sees either its own row or the committed one.
    """
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    first_key = next(iter(table.primary_key.columns))
    stmt = dialect.insert(table).values(**values).on_conflict_do_nothing()
    # rowcount is not reliable here on every driver; RETURNING says whether a row went in
    return conn.execute(stmt.returning(first_key)).first() is not None


def page_rows(repo: Repositories, stmt: Select, order: Sequence[Any], offset: int,
          limit: int) -> tuple[list[Any], int]:
    total = repo.conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = repo.conn.execute(stmt.order_by(*order).offset(offset).limit(limit)).all()
    return list(rows), int(total)


def rows_page(repo: Repositories, stmt: Select, order: Sequence[Any], offset: int,
               limit: int) -> Page:
    rows, total = page_rows(repo, stmt, order, offset, limit)
    return Page([dict(r._mapping) for r in rows], total, offset, limit)


# --- secrets -----------------------------------------------------------------------------

def secret(repo: Repositories, name: str, candidate: str, now: str) -> str:
    """The stored secret called ``name``; ``candidate`` becomes it when there is none yet."""
    insert_ignoring_conflicts(repo.conn, api_secrets,
                               {"name": name, "value": candidate, "created_at": now})
    return str(repo.conn.execute(select(api_secrets.c.value)
                                 .where(api_secrets.c.name == name)).scalar_one())


# --- sign-in -------------------------------------------------------------------------------

def count_login_failure(repo: Repositories, user_id: int) -> int:
    """Add one to the user's consecutive failures and return the new count."""
    u = t.users.c
    repo.conn.execute(update(t.users).where(u.id == user_id)
                      .values(failed_logins=u.failed_logins + 1))
    return int(repo.conn.execute(select(u.failed_logins).where(u.id == user_id)).scalar_one())


def set_lock(repo: Repositories, user_id: int, locked_until: str | None) -> None:
    """Lock the account until the given instant (None unlocks); failures start over."""
    repo.conn.execute(update(t.users).where(t.users.c.id == user_id)
                      .values(failed_logins=0, locked_until=locked_until))


def set_totp_secret(repo: Repositories, user_id: int, totp_secret: str | None) -> None:
    repo.conn.execute(update(t.users).where(t.users.c.id == user_id)
                      .values(totp_secret=totp_secret))


def add_address_failure(repo: Repositories, address: str, username: str | None,
                        at: str) -> None:
    repo.conn.execute(auth_failures.insert().values(address=address[:64],
                                                    username=(username or None) and username[:80],
                                                    at=at))


def address_failures_since(repo: Repositories, address: str, since: str) -> int:
    c = auth_failures.c
    return int(repo.conn.execute(select(func.count()).select_from(auth_failures).where(
        c.address == address[:64], c.at >= since)).scalar_one())


def pair_failures_since(repo: Repositories, address: str, username: str,
                        since: str) -> tuple[int, str | None]:
    """Failed sign-ins for one name from one address since ``since``: (count, latest)."""
    c = auth_failures.c
    row = repo.conn.execute(select(func.count(), func.max(c.at)).where(
        c.address == address[:64], c.username == username[:80], c.at >= since)).one()
    return int(row[0]), row[1]


def forget_pair_failures(repo: Repositories, address: str, username: str) -> None:
    """After a right sign-in, the name starts afresh at that address."""
    c = auth_failures.c
    repo.conn.execute(delete(auth_failures).where(c.address == address[:64],
                                                  c.username == username[:80]))


def prune_address_failures(repo: Repositories, before: str) -> None:
    repo.conn.execute(delete(auth_failures).where(auth_failures.c.at < before))


# --- users -----------------------------------------------------------------------------------

_USER_COLUMNS = (t.users.c.id, t.users.c.username, t.users.c.display_name, t.users.c.role,
                 t.users.c.active, t.users.c.created_at, t.users.c.locked_until,
                 t.users.c.failed_logins, t.users.c.scope_id, t.users.c.kind, t.users.c.post,
                 (t.users.c.totp_secret.is_not(None)).label("totp_enrolled"),
                 t.organizations.c.code.label("scope"))


def _users_stmt(repo: Repositories) -> Select:
    return (select(*_USER_COLUMNS)
            .join(t.organizations, t.organizations.c.id == t.users.c.scope_id)
            .where(repo.in_scope(t.users.c.scope_id)))


def users_page(repo: Repositories, *, role: str | None = None, offset: int = 0,
               limit: int = 100) -> Page:
    stmt = _users_stmt(repo)
    if role:
        stmt = stmt.where(t.users.c.role == role)
    return rows_page(repo, stmt, [t.users.c.username], offset, limit)


def user_in_scope(repo: Repositories, username: str) -> dict | None:
    row = repo.conn.execute(_users_stmt(repo).where(t.users.c.username == username)).first()
    return None if row is None else dict(row._mapping)


# --- integration tokens -------------------------------------------------------------------------

def insert_token(repo: Repositories, *, user_id: int, name: str, token_hash: str, prefix: str,
                 created_at: str, created_by: int | None, expires_at: str | None) -> int:
    result = repo.conn.execute(api_tokens.insert().values(
        user_id=user_id, name=name, token_hash=token_hash, prefix=prefix,
        created_at=created_at, created_by=created_by, expires_at=expires_at))
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def token_owner(repo: Repositories, token_hash: str) -> dict | None:
    """The live token with this hash and its owner's name, or None."""
    k, u = api_tokens.c, t.users.c
    row = repo.conn.execute(
        select(k.id, k.expires_at, k.revoked_at, u.username, u.active, u.kind)
        .join(t.users, u.id == k.user_id).where(k.token_hash == token_hash)).first()
    return None if row is None else dict(row._mapping)


def _tokens_stmt(repo: Repositories) -> Select:
    k, u = api_tokens.c, t.users.c
    return (select(k.id, k.name, k.prefix, k.created_at, k.expires_at, k.revoked_at,
                   u.username, t.organizations.c.code.label("scope"))
            .join(t.users, u.id == k.user_id)
            .join(t.organizations, t.organizations.c.id == u.scope_id)
            .where(repo.in_scope(u.scope_id)))


def tokens_page(repo: Repositories, *, username: str | None = None, active_only: bool = False,
                offset: int = 0, limit: int = 100) -> Page:
    stmt = _tokens_stmt(repo)
    if username:
        stmt = stmt.where(t.users.c.username == username)
    if active_only:
        stmt = stmt.where(api_tokens.c.revoked_at.is_(None))
    return rows_page(repo, stmt, [api_tokens.c.id], offset, limit)


def token_in_scope(repo: Repositories, token_id: int) -> dict | None:
    row = repo.conn.execute(_tokens_stmt(repo).where(api_tokens.c.id == token_id)).first()
    return None if row is None else dict(row._mapping)


def revoke_token(repo: Repositories, token_id: int, at: str, by: int | None) -> None:
    repo.conn.execute(update(api_tokens).where(api_tokens.c.id == token_id,
                                               api_tokens.c.revoked_at.is_(None))
                      .values(revoked_at=at, revoked_by=by))


# --- idempotency ----------------------------------------------------------------------------------

def claim_idempotency_key(repo: Repositories, user_id: int, key: str, request_hash: str,
                          now: str) -> bool:
    """Reserve the key in this transaction; False when another request holds it."""
    return insert_ignoring_conflicts(repo.conn, idempotency_keys, {
        "user_id": user_id, "key": key, "request_hash": request_hash, "status_code": 0,
        "response_body": "", "created_at": now})


def idempotency_record(repo: Repositories, user_id: int, key: str) -> dict | None:
    c = idempotency_keys.c
    row = repo.conn.execute(select(idempotency_keys).where(c.user_id == user_id,
                                                           c.key == key)).first()
    return None if row is None else dict(row._mapping)


def store_idempotent_response(repo: Repositories, user_id: int, key: str, status_code: int,
                              body: str) -> None:
    c = idempotency_keys.c
    repo.conn.execute(update(idempotency_keys).where(c.user_id == user_id, c.key == key)
                      .values(status_code=status_code, response_body=body))


def forget_idempotency_key(repo: Repositories, user_id: int, key: str) -> None:
    """Drop a reservation that never got its answer (the request was refused)."""
    c = idempotency_keys.c
    repo.conn.execute(delete(idempotency_keys).where(c.user_id == user_id, c.key == key,
                                                     c.status_code == 0))


def prune_idempotency_keys(repo: Repositories, before: str) -> None:
    repo.conn.execute(delete(idempotency_keys).where(idempotency_keys.c.created_at < before))


# --- registry lists ---------------------------------------------------------------------------------

def organizations_page(repo: Repositories, *, kind: str | None = None, q: str | None = None,
                       parent_id: int | None = None, offset: int = 0, limit: int = 100) -> Page:
    c = t.organizations.c
    stmt = select(t.organizations).where(repo.in_scope(c.id))
    if kind:
        stmt = stmt.where(c.kind == kind)
    if parent_id is not None:
        stmt = stmt.where(c.parent_id == parent_id)
    if q:
        needle = q.strip().lower()
        stmt = stmt.where(or_(func.lower(c.code).contains(needle, autoescape=True),
                              func.lower(c.name).contains(needle, autoescape=True)))
    return rows_page(repo, stmt, [c.path], offset, limit)


def locations_page(repo: Repositories, *, agency_id: int | None = None, kind: str | None = None,
                   offset: int = 0, limit: int = 100) -> Page:
    c = t.locations.c
    stmt = scoped.locations(repo.scope)
    if agency_id is not None:
        stmt = stmt.where(c.agency_id == agency_id)
    if kind:
        stmt = stmt.where(c.kind == kind)
    return rows_page(repo, stmt, [c.agency_id, c.code], offset, limit)


def location_in_scope(repo: Repositories, location_id: int) -> dict | None:
    c = t.locations.c
    row = repo.conn.execute(scoped.locations(repo.scope).where(c.id == location_id)).first()
    return None if row is None else dict(row._mapping)


def licence_agencies(repo: Repositories, licence_ids: Sequence[int]) -> dict[int, list[str]]:
    """The codes of the agencies each of these licences covers, for licences in scope."""
    if not licence_ids:
        return {}
    la, o = t.licence_agencies.c, t.organizations.c
    rows = repo.conn.execute(scoped.licence_agencies(repo.scope, la.licence_id, o.code).join(
        t.organizations, o.id == la.agency_id).where(la.licence_id.in_(set(licence_ids)))
        .order_by(o.code))
    out: dict[int, list[str]] = {}
    for row in rows:
        out.setdefault(int(row.licence_id), []).append(row.code)
    return out


def _licences_stmt(repo: Repositories) -> Select:
    c, o = t.licences.c, t.organizations.c
    return (scoped.licences(repo.scope, t.licences, o.code.label("holder"))
            .join(t.organizations, o.id == c.holder_id))


def licences_page(repo: Repositories, *, offset: int = 0, limit: int = 100) -> Page:
    page = rows_page(repo, _licences_stmt(repo), [t.licences.c.number], offset, limit)
    agencies = licence_agencies(repo, [r["id"] for r in page.items])
    for item in page.items:
        item["agencies"] = agencies.get(item["id"], [])
    return page


def licence_in_scope(repo: Repositories, licence_id: int) -> dict | None:
    row = repo.conn.execute(_licences_stmt(repo).where(t.licences.c.id == licence_id)).first()
    if row is None:
        return None
    item = dict(row._mapping)
    item["agencies"] = licence_agencies(repo, [licence_id]).get(licence_id, [])
    return item


def officers_matching(repo: Repositories, *, agency_id: int | None = None,
                      status: str | None = None, q: str | None = None, offset: int = 0,
                      limit: int = 100) -> Page:
    """Officers in scope, filtered; ``q`` matches the badge, the name or the CUIP."""
    c = t.officers.c
    cond: list[ColumnElement[bool]] = []
    if agency_id is not None:
        cond.append(c.agency_id == agency_id)
    if status:
        cond.append(c.status == status)
    if q:
        needle = q.strip().lower()
        cond.append(or_(func.lower(c.badge).contains(needle, autoescape=True),
                        func.lower(c.name).contains(needle, autoescape=True),
                        func.lower(c.cuip).contains(needle, autoescape=True)))
    rows, total = page_rows(repo, scoped.officers(repo.scope).where(*cond),
                            [c.agency_id, c.badge], offset, limit)
    return Page([officer_from_row(r) for r in rows], total, offset, limit)


@cache
def _firearm_ref(kind: ScopeKind) -> Select:
    c = t.firearms.c
    return (scoped.firearms(BoundScope(kind), c.serial, c.make)
            .where(c.id == bindparam("firearm_id")))


def firearm_ref(repo: Repositories, firearm_id: int) -> tuple[str, str] | None:
    """Serial and make of a firearm in the caller's scope (the hot path of custody writes)."""
    scope = repo.scope
    row = repo.conn.execute(_firearm_ref(scope.kind),
                            {"firearm_id": firearm_id, **scope.params}).first()
    return None if row is None else (row.serial, row.make)


def _requests_stmt(repo: Repositories) -> Select:
    f = t.firearms.c
    return scoped.requests(repo.scope, t.requests, f.serial, f.make)


def requests_page(repo: Repositories, *, state: str | None = None, kind: str | None = None,
                  offset: int = 0, limit: int = 100) -> Page:
    c = t.requests.c
    stmt = _requests_stmt(repo)
    if state:
        stmt = stmt.where(c.state == state)
    if kind:
        stmt = stmt.where(c.kind == kind)
    return rows_page(repo, stmt, [c.id], offset, limit)


def transfer_to_scope(repo: Repositories, firearm_id: int) -> dict | None:
    """The latest approved transfer of this firearm to an agency in the caller's scope."""
    c, f = t.requests.c, t.firearms.c
    row = repo.conn.execute(
        scoped.requests(repo.scope, c.id, c.to_agency_id, f.serial, f.make, side="to")
        .where(c.firearm_id == firearm_id, c.kind == "transfer", c.state == "approved")
        .order_by(c.id.desc()).limit(1)).first()
    return None if row is None else dict(row._mapping)


def loss_reports_page(repo: Repositories, *, open_only: bool = False, offset: int = 0,
                      limit: int = 100) -> Page:
    c, f = t.loss_reports.c, t.firearms.c
    stmt = scoped.loss_reports(repo.scope, t.loss_reports, f.serial, f.make)
    if open_only:
        stmt = stmt.where(c.recovered_at.is_(None))
    return rows_page(repo, stmt, [c.id], offset, limit)


def user_names(repo: Repositories, ids: Sequence[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    u = t.users.c
    return {int(r.id): r.username
            for r in repo.conn.execute(select(u.id, u.username).where(u.id.in_(wanted)))}


def org_codes(repo: Repositories, ids: Sequence[int | None]) -> dict[int, str]:
    return repo.org_names([i for i in ids if i is not None])


# --- the log --------------------------------------------------------------------------------------------

def events_with_request_ids(repo: Repositories, request_ids: Sequence[str]) -> dict[str, int]:
    """How many events carry each of these request ids (for crash-recovery checks)."""
    if not request_ids:
        return {}
    c = t.events.c
    out: dict[str, int] = {}
    for start in range(0, len(request_ids), 500):
        chunk = list(request_ids[start:start + 500])
        rows = repo.conn.execute(scoped.entries(repo.scope, c.request_id, func.count()).where(
            c.request_id.in_(chunk)).group_by(c.request_id))
        for rid, n in rows:
            out[rid] = int(n)
    return out


def event_count(repo: Repositories) -> tuple[int, int | None, int | None]:
    """Number of event rows the actor may read, the smallest and the largest position."""
    c = t.events.c
    row = repo.conn.execute(scoped.entries(repo.scope, func.count(), func.min(c.position),
                                           func.max(c.position))).one()
    return int(row[0]), row[1], row[2]
