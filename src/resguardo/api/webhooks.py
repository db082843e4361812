"""Webhooks: an admin subscribes a URL to event types; a worker thread POSTs them.

The log itself is the outbox. Each subscription keeps a cursor (the next log
position to look at); the worker reads new events, queues one delivery per
matching event in scope, and moves the cursor in the same transaction, so an
event is queued exactly once even across crashes and several server processes.
Deliveries are leased before sending (so two workers never send the same one),
signed with HMAC-SHA256 over the exact body, retried with exponential backoff
and jitter, and every attempt is kept in the delivery log.

Receivers check ``X-Resguardo-Signature-256: sha256=<hex>`` against
``HMAC-SHA256(secret, body)`` and may ignore a ``X-Resguardo-Delivery`` id they
have already processed (a delivery may be sent again after a timeout).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Literal

import httpx

from resguardo.domain.errors import NotFound
from resguardo.domain.events import Event, canonical
from resguardo.domain.timefmt import iso
from resguardo.storage import api_queries as q
from resguardo.storage import webhook_queries as wq
from resguardo.storage.repositories import Repositories
from resguardo.storage.uow import UnitOfWork

log = logging.getLogger("resguardo.webhooks")

DeliveryState = Literal["pending", "delivered", "failed"]
SIGNATURE_HEADER = "X-Resguardo-Signature-256"
USER_AGENT = "Resguardo-Webhooks/1"


def sign(secret: str, body: bytes) -> str:
    """The signature header value for a body: ``sha256=`` and the hex HMAC."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def matches(patterns: list[str], event_type: str) -> bool:
    """True when the event type is one of the subscribed types or prefixes."""
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def register(uow: UnitOfWork, url: str, event_types: list[str], description: str | None,
             secret: str | None) -> tuple[int, str]:
    """Subscribe ``url``; returns (id, signing secret). Only events from now on are sent."""
    assert uow.actor is not None
    secret = secret or "whsec_" + secrets.token_urlsafe(32)
    webhook_id = wq.insert_webhook(
        uow.repo, url=url, event_types=sorted(set(event_types)), secret=secret,
        owner_id=uow.actor.user_id, scope_id=uow.actor.scope.id, description=description,
        cursor=uow.repo.log_size(), created_at=iso(uow.now()))
    return webhook_id, secret


def deactivate(uow: UnitOfWork, webhook: dict) -> None:
    wq.deactivate_webhook(uow.repo, webhook["id"])


def retry(uow: UnitOfWork, webhook: dict, delivery_id: int) -> dict:
    """Queue a delivery for one more attempt now."""
    found = wq.delivery_of(uow.repo, webhook["id"], delivery_id)
    if found is None:
        raise NotFound("delivery not found")
    wq.redeliver(uow.repo, delivery_id, iso(datetime.now(UTC)))
    page = wq.deliveries_page(uow.repo, webhook["id"], offset=0, limit=q.MAX_LIMIT)
    return next(d for d in page.items if d["id"] == delivery_id)


#: The error recorded for a queued delivery the subscription's owner may no longer read.
NOT_READABLE = ("not sent: the subscription's owner may not read this entry now (account "
                "disabled, moved to another scope or role, or the entry hidden from it)")


def owner_reads(repo: Repositories, hook: dict) -> Repositories | None:
    """What a subscription may read: its owner's reads as the owner stands now (enabled,
    with the owner's present role), narrowed to the subscription's scope; None when the
    owner may read nothing of it (disabled or gone, or no longer over that scope).

    Every entry a subscription is sent passes through ``storage.scoped.entries`` for this
    reader, as each of the owner's own reads does: the kinds open to the role, the scope,
    a sealed revista hidden from the inspected agency's own accounts. An admin let go, or
    moved to one agency, takes no stream of the state's entries along."""
    username = hook.get("owner_username")
    if not username:
        return None
    try:
        owner = repo.actor_for(username)
    except NotFound:  # disabled, or no such account
        return None
    scope = repo.org_unscoped(int(hook["scope_id"]))
    if not owner.in_scope(scope.path):
        return None
    if scope.id != owner.scope.id:
        owner = replace(owner, scope=scope, overseen=())
    return Repositories(repo.conn, owner)


class DeliveryWorker:
    """A background thread that queues and sends webhook deliveries."""

    def __init__(self, app, *, poll_interval: float = 1.0, timeout: float = 5.0,  # type: ignore[no-untyped-def]
                 max_attempts: int = 8, backoff_base: float = 5.0,
                 backoff_max: float = 3600.0, lease: float = 60.0, batch: int = 1000,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.app = app
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.lease = timedelta(seconds=lease)
        self.batch = batch
        self.now = now
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client = httpx.Client(timeout=timeout, follow_redirects=False,
                                    headers={"User-Agent": USER_AGENT})
        self._last_prune = 0.0

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="resguardo-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + 5)
        self._client.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # noqa: BLE001 - the worker must outlive a bad moment
                log.exception("webhook worker pass failed")
                busy = 0
            if not busy:
                self._stop.wait(self.poll_interval)

    def run_once(self) -> int:
        """Queue new events and send what is due; returns how many attempts were made."""
        self.enqueue()
        sent = self.deliver_due()
        if time.monotonic() - self._last_prune > 300:
            self._prune()
        return sent

    # --- queueing ----------------------------------------------------------------------

    def enqueue(self) -> int:
        """Queue deliveries for events past each subscription's cursor."""
        with self.app.read(None) as uow:
            hooks = wq.active_webhooks(uow.repo)
            size = uow.repo.log_size()
        queued = 0
        for hook in hooks:
            while hook["cursor"] < size:
                stop = min(size, hook["cursor"] + self.batch)
                queued += self._enqueue_batch(hook, stop)
                hook = {**hook, "cursor": stop}
        return queued

    def _enqueue_batch(self, hook: dict, stop: int) -> int:
        queued = 0
        with self.app.work(None) as uow:
            reads = owner_reads(uow.repo, hook)
            now = iso(self.now())
            for ev in [] if reads is None else reads.iter_events(hook["cursor"], stop):
                if matches(hook["event_types"], ev.type):
                    wq.enqueue_delivery(uow.repo, hook["id"], ev.position, ev.type, now)
                    queued += 1
            if wq.advance_webhook_cursor(uow.repo, hook["id"], hook["cursor"], stop):
                uow.commit()
            else:
                queued = 0  # another worker queued this batch first
        return queued

    # --- sending -------------------------------------------------------------------------

    def deliver_due(self) -> int:
        now = self.now()
        with self.app.read(None) as uow:
            due = wq.due_deliveries(uow.repo, iso(now))
        attempts = 0
        for delivery in due:
            if self._stop.is_set():
                break
            with self.app.work(None) as uow:
                claimed = wq.claim_delivery(uow.repo, delivery["id"], iso(self.now()),
                                           iso(self.now() + self.lease))
                hook = wq.webhook_by_id(uow.repo, delivery["webhook_id"]) if claimed else None
                ev = None if hook is None else self._readable(uow, hook, delivery)
                uow.commit()
            if hook is None or ev is None:
                continue
            self._attempt(delivery, hook, ev)
            attempts += 1
        return attempts

    def _readable(self, uow: UnitOfWork, hook: dict, delivery: dict) -> Event | None:
        """The delivery's entry, read as the subscription's owner stands at the moment of
        sending (a delivery queued before the owner was disabled or moved is not sent:
        it ends ``failed`` with ``NOT_READABLE``)."""
        reads = owner_reads(uow.repo, hook)
        try:
            if reads is not None:
                return reads.event(delivery["event_position"])
        except NotFound:
            pass
        now = self.now()
        wq.record_attempt(uow.repo, delivery["id"], attempt=int(delivery["attempts"]) + 1,
                          at=iso(now), status_code=None, error=NOT_READABLE, duration_ms=0,
                          state="failed", next_attempt_at=iso(now), delivered_at=None)
        return None

    def body(self, delivery: dict, hook: dict, ev: Event) -> bytes:
        return canonical({"delivery_id": delivery["id"], "webhook_id": hook["id"],
                          "event": ev.document()}).encode("utf-8")

    def _attempt(self, delivery: dict, hook: dict, ev: Event) -> None:
        body = self.body(delivery, hook, ev)
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(hook["secret"], body),
                   "X-Resguardo-Event": ev.type, "X-Resguardo-Delivery": str(delivery["id"])}
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            response = self._client.post(hook["url"], content=body, headers=headers)
            status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        duration = int((time.monotonic() - started) * 1000)
        attempt = int(delivery["attempts"]) + 1
        now = self.now()
        if error is None:
            state, next_at, delivered = "delivered", now, iso(now)
        elif attempt >= self.max_attempts:
            state, next_at, delivered = "failed", now, None
        else:
            state, next_at, delivered = "pending", now + self.backoff(attempt), None
        with self.app.work(None) as uow:
            wq.record_attempt(uow.repo, delivery["id"], attempt=attempt, at=iso(now),
                             status_code=status, error=error, duration_ms=duration, state=state,
                             next_attempt_at=iso(next_at), delivered_at=delivered)
            uow.commit()
        if error is not None:
            log.info("webhook %s delivery %s attempt %s failed: %s", hook["id"], delivery["id"],
                     attempt, error)

    def backoff(self, attempt: int) -> timedelta:
        """Exponential backoff with jitter after the given (failed) attempt number."""
        base = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return timedelta(seconds=base * random.uniform(0.8, 1.2))

    # --- housekeeping --------------------------------------------------------------------

    def _prune(self) -> None:
        from resguardo.api.dependencies import IDEMPOTENCY_TTL
        self._last_prune = time.monotonic()
        with self.app.work(None) as uow:
            q.prune_idempotency_keys(uow.repo, iso(self.now() - IDEMPOTENCY_TTL))
            uow.commit()

