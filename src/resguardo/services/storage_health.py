"""A full disk as the administrator sees it: an alert beside the refusals.

When the database refuses a write because its storage is full (SQLite's SQLITE_FULL,
PostgreSQL's disk_full), the serving process answers 503 `storage_full` and notes the
incident here; `storage_alerts` (one of `alerts.SOURCES`) shows it to administrators
on the alerts page and the API while writes are refused, and for `SHOWN_AFTER` once a
write went through again (saying since when), so that an administrator who was away
still learns of it. The incident cannot be kept in
the database that is full: it lives in the serving process, per database, and is
therefore shown by that process (the server, where the desks' writes arrive); a command
that meets a full disk says so itself (`cli.context.refusals`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from resguardo.domain.alerts import Alert, AlertKind
from resguardo.domain.policy import Action, may
from resguardo.domain.timefmt import iso, utcnow
from resguardo.storage.ledger_store import database_identity
from resguardo.storage.uow import UnitOfWork


@dataclass
class Incident:
    """Writes refused for a full disk: when first and last, how many, on what."""

    first: datetime
    last: datetime
    refused: int
    where: str
    recovered: datetime | None = None


SHOWN_AFTER = timedelta(hours=24)
"""How long the alert stays once writes go through again."""

_INCIDENTS: dict[str, Incident] = {}
_LOCK = threading.Lock()
log = logging.getLogger("resguardo.storage")


def note_full(engine: Any, where: str, now: datetime | None = None) -> Incident:
    """Record that a write on `engine`'s database was refused for a full disk."""
    at = now or utcnow()
    with _LOCK:
        identity = database_identity(engine)
        incident = _INCIDENTS.get(identity)
        if incident is None or incident.recovered is not None:
            incident = _INCIDENTS[identity] = Incident(at, at, 0, where)
        incident.last, incident.where = at, where
        incident.refused += 1
        return incident


def note_written(engine: Any, now: datetime | None = None) -> None:
    """A write on `engine`'s database went through: an open incident is over."""
    if not _INCIDENTS:  # the usual case, without a lock
        return
    with _LOCK:
        incident = _INCIDENTS.get(database_identity(engine))
        if incident is not None and incident.recovered is None:
            incident.recovered = now or utcnow()
            log.warning("storage: writes go through again after %d refused for a full disk",
                        incident.refused)


def storage_alerts(uow: UnitOfWork) -> list[Alert]:
    """The storage-full incident of this database, if any (administrators)."""
    actor = uow.actor
    if actor is not None and not may(actor, Action.USER_MANAGE):
        return []
    with _LOCK:
        incident = _INCIDENTS.get(database_identity(uow.conn.engine))
        if incident is None:
            return []
        first, last, refused, where, recovered = (incident.first, incident.last,
                                                  incident.refused, incident.where,
                                                  incident.recovered)
    if recovered is not None and uow.now() - recovered > SHOWN_AFTER:
        return []
    state = ("free disk space where the database lives" if recovered is None else
             f"writes go through again since {iso(recovered)}")
    return [Alert(
        key=f"{AlertKind.STORAGE_FULL.value}:{iso(first)}", kind=AlertKind.STORAGE_FULL,
        agency_id=actor.scope.id if actor is not None else 0,
        agency=actor.scope.name if actor is not None else "", subject="database storage",
        message=f"the storage is full: {refused} write(s) refused since {iso(first)}, the last "
                f"at {iso(last)} ({where}); {state}",
        since=first)]
