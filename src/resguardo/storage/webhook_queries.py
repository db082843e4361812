"""Queries of the API's webhooks: subscriptions, their delivery queue and attempts.

Like ``api_queries`` (whose paging and conflict-tolerant insert these share),
each function takes the unit of work's ``Repositories``; a subscription is read
through its scope's ``in_scope`` clause. Deliveries are leased to one worker
at a time (``claim_delivery``) and every attempt is kept (``record_attempt``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, or_, select, update

from resguardo.storage import tables as t
from resguardo.storage.api_queries import insert_ignoring_conflicts, page_rows, rows_page
from resguardo.storage.api_tables import webhook_attempts, webhook_deliveries, webhooks
from resguardo.storage.repositories import Page, Repositories


def insert_webhook(repo: Repositories, *, url: str, event_types: list[str], secret: str,
                   owner_id: int | None, scope_id: int, description: str | None, cursor: int,
                   created_at: str) -> int:
    result = repo.conn.execute(webhooks.insert().values(
        url=url, event_types=json.dumps(event_types), secret=secret, owner_id=owner_id,
        scope_id=scope_id, description=description, active=True, cursor=cursor,
        created_at=created_at))
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def _webhook_dict(row: Any) -> dict:
    item = dict(row._mapping)
    item["event_types"] = json.loads(item["event_types"])
    return item


def _webhooks_select() -> Select:
    """Subscriptions with their scope and their owner (who they read as)."""
    w = webhooks.c
    return (select(webhooks, t.organizations.c.code.label("scope"),
                   t.organizations.c.path.label("scope_path"),
                   t.users.c.username.label("owner_username"))
            .join(t.organizations, t.organizations.c.id == w.scope_id)
            .outerjoin(t.users, t.users.c.id == w.owner_id))


def _webhooks_stmt(repo: Repositories) -> Select:
    return _webhooks_select().where(repo.in_scope(webhooks.c.scope_id))


def webhooks_page(repo: Repositories, *, active_only: bool = False, offset: int = 0,
                  limit: int = 100) -> Page:
    stmt = _webhooks_stmt(repo)
    if active_only:
        stmt = stmt.where(webhooks.c.active.is_(True))
    rows, total = page_rows(repo, stmt, [webhooks.c.id], offset, limit)
    return Page([_webhook_dict(r) for r in rows], total, offset, limit)


def webhook_in_scope(repo: Repositories, webhook_id: int) -> dict | None:
    row = repo.conn.execute(_webhooks_stmt(repo).where(webhooks.c.id == webhook_id)).first()
    return None if row is None else _webhook_dict(row)


def deactivate_webhook(repo: Repositories, webhook_id: int) -> None:
    repo.conn.execute(update(webhooks).where(webhooks.c.id == webhook_id).values(active=False))


def active_webhooks(repo: Repositories) -> list[dict]:
    return [_webhook_dict(r) for r in repo.conn.execute(
        _webhooks_stmt(repo).where(webhooks.c.active.is_(True)).order_by(webhooks.c.id))]


def advance_webhook_cursor(repo: Repositories, webhook_id: int, old: int, new: int) -> bool:
    """Move the cursor from ``old`` to ``new``; False when another worker moved it first."""
    w = webhooks.c
    result = repo.conn.execute(update(webhooks).where(w.id == webhook_id, w.cursor == old)
                               .values(cursor=new))
    return bool(result.rowcount)


def enqueue_delivery(repo: Repositories, webhook_id: int, position: int, event_type: str,
                     now: str) -> None:
    insert_ignoring_conflicts(repo.conn, webhook_deliveries, {
        "webhook_id": webhook_id, "event_position": position, "event_type": event_type,
        "state": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now})


def due_deliveries(repo: Repositories, now: str, limit: int = 50) -> list[dict]:
    d = webhook_deliveries.c
    rows = repo.conn.execute(
        select(webhook_deliveries).where(d.state == "pending", d.next_attempt_at <= now,
                                         or_(d.lease_until.is_(None), d.lease_until < now))
        .order_by(d.next_attempt_at, d.id).limit(limit))
    return [dict(r._mapping) for r in rows]


def claim_delivery(repo: Repositories, delivery_id: int, now: str, lease_until: str) -> bool:
    """Lease a due delivery to this worker; False when another worker leased it first."""
    d = webhook_deliveries.c
    result = repo.conn.execute(update(webhook_deliveries).where(
        d.id == delivery_id, d.state == "pending",
        or_(d.lease_until.is_(None), d.lease_until < now)).values(lease_until=lease_until))
    return bool(result.rowcount)


def webhook_by_id(repo: Repositories, webhook_id: int) -> dict | None:
    """A subscription whatever its scope (the delivery worker's, which reads as the system)."""
    row = repo.conn.execute(_webhooks_select().where(webhooks.c.id == webhook_id)).first()
    return None if row is None else _webhook_dict(row)


def record_attempt(repo: Repositories, delivery_id: int, *, attempt: int, at: str,
                   status_code: int | None, error: str | None, duration_ms: int,
                   state: str, next_attempt_at: str, delivered_at: str | None) -> None:
    repo.conn.execute(webhook_attempts.insert().values(
        delivery_id=delivery_id, attempt=attempt, at=at, status_code=status_code,
        error=error, duration_ms=duration_ms))
    repo.conn.execute(update(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id)
                      .values(attempts=attempt, state=state, next_attempt_at=next_attempt_at,
                              lease_until=None, last_status=status_code, last_error=error,
                              delivered_at=delivered_at))


def deliveries_page(repo: Repositories, webhook_id: int, *, state: str | None = None,
                    offset: int = 0, limit: int = 100) -> Page:
    d = webhook_deliveries.c
    stmt = select(webhook_deliveries).where(d.webhook_id == webhook_id)
    if state:
        stmt = stmt.where(d.state == state)
    page = rows_page(repo, stmt, [d.id.desc()], offset, limit)
    attempts = attempts_of(repo, [item["id"] for item in page.items])
    for item in page.items:
        item["attempt_log"] = attempts.get(item["id"], [])
    return page


def attempts_of(repo: Repositories, delivery_ids: Sequence[int]) -> dict[int, list[dict]]:
    if not delivery_ids:
        return {}
    a = webhook_attempts.c
    rows = repo.conn.execute(select(webhook_attempts).where(a.delivery_id.in_(set(delivery_ids)))
                             .order_by(a.delivery_id, a.attempt))
    out: dict[int, list[dict]] = {}
    for row in rows:
        out.setdefault(int(row.delivery_id), []).append(dict(row._mapping))
    return out


def redeliver(repo: Repositories, delivery_id: int, now: str) -> None:
    """Put a failed or delivered delivery back in the queue (an admin asked again)."""
    repo.conn.execute(update(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id)
                      .values(state="pending", next_attempt_at=now, lease_until=None))


def delivery_of(repo: Repositories, webhook_id: int, delivery_id: int) -> dict | None:
    d = webhook_deliveries.c
    row = repo.conn.execute(select(webhook_deliveries).where(
        d.id == delivery_id, d.webhook_id == webhook_id)).first()
    return None if row is None else dict(row._mapping)
