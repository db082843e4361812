"""Alerts: conditions a chief or supervisor must see and act on.

Storage supplies candidate rows; the rules (deadlines, what counts as
overdue) live here so every entry point raises the same alerts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum


class AlertKind(StrEnum):
    LOSS_UNNOTIFIED = "loss_unnotified"
    ISSUED_TO_INELIGIBLE = "issued_to_ineligible"
    CREDENTIAL_EXPIRED = "credential_expired"
    OVERDUE_RETURN = "overdue_return"
    OPEN_FINDING = "open_finding"
    WITNESS_REFUSED = "witness_refused"
    WITNESS_UNREACHABLE = "witness_unreachable"
    POWER_CHANGE = "power_change"
    UNDECLARED_WEAPON = "undeclared_weapon"
    """Acquired more than 30 days ago and on no collective licence (Reglamento LFAFE art. 11)."""
    NO_CREDENTIAL_FOLIO = "no_credential_folio"
    """A weapon issued to an officer with no credential folio (LFAFE art. 29)."""
    STORAGE_FULL = "storage_full"


@dataclass(frozen=True, slots=True)
class Alert:
    key: str
    kind: AlertKind
    agency_id: int
    agency: str
    subject: str
    message: str
    since: datetime
    acknowledged: bool = False

    def as_dict(self) -> dict:
        return {"key": self.key, "kind": self.kind.value, "agency": self.agency,
                "subject": self.subject, "message": self.message,
                "since": self.since.isoformat().replace("+00:00", "Z"),
                "acknowledged": self.acknowledged}


@dataclass(frozen=True, slots=True)
class OpenLoss:
    report_id: int
    agency_id: int
    agency: str
    serial: str
    make: str
    stolen: bool
    reported_at: datetime


@dataclass(frozen=True, slots=True)
class IssuedWeapon:
    firearm_id: int
    agency_id: int
    agency: str
    serial: str
    make: str
    badge: str
    officer_name: str
    officer_status: str
    credential_expiry: date | None
    qualification_expiry: date | None
    issued_at: datetime


def loss_alerts(losses: list[OpenLoss], now: datetime, deadline: timedelta) -> list[Alert]:
    """Losses and thefts not yet notified to the military authority after the deadline."""
    out = []
    for loss in losses:
        due = loss.reported_at + deadline
        if now >= due:
            what = "theft" if loss.stolen else "loss"
            hours = int((now - loss.reported_at).total_seconds() // 3600)
            out.append(Alert(
                key=f"loss_unnotified:{loss.report_id}", kind=AlertKind.LOSS_UNNOTIFIED,
                agency_id=loss.agency_id, agency=loss.agency, subject=f"{loss.make} {loss.serial}",
                message=f"{what} reported {hours} h ago and not notified to the military authority",
                since=due))
    return out


def custody_alerts(issued: list[IssuedWeapon], now: datetime, shift: timedelta,
                   days: Mapping[int, date]) -> list[Alert]:
    """Weapons held by ineligible officers, and weapons out longer than a shift. A
    credential or qualification is expired once its day is over at the weapon's agency:
    ``days`` maps each agency id to its calendar day at ``now`` (``UnitOfWork.today``)."""
    out = []
    for w in issued:
        today = days[w.agency_id]
        subject = f"{w.make} {w.serial} / {w.badge} {w.officer_name}"
        if w.officer_status != "active":
            out.append(Alert(
                key=f"issued_to_ineligible:{w.firearm_id}", kind=AlertKind.ISSUED_TO_INELIGIBLE,
                agency_id=w.agency_id, agency=w.agency, subject=subject,
                message=f"weapon still issued to an officer who is {w.officer_status}",
                since=w.issued_at))
        expired = [d for d in (w.credential_expiry, w.qualification_expiry)
                   if d is not None and d < today]
        if expired:
            first = min(expired)
            out.append(Alert(
                key=f"credential_expired:{w.firearm_id}", kind=AlertKind.CREDENTIAL_EXPIRED,
                agency_id=w.agency_id, agency=w.agency, subject=subject,
                message=f"weapon issued to an officer whose credential or qualification expired on {first.isoformat()}",
                since=datetime.combine(first, datetime.min.time(), tzinfo=now.tzinfo)))
        if now - w.issued_at > shift:
            hours = int((now - w.issued_at).total_seconds() // 3600)
            out.append(Alert(
                key=f"overdue_return:{w.firearm_id}:{int(w.issued_at.timestamp())}",
                kind=AlertKind.OVERDUE_RETURN, agency_id=w.agency_id, agency=w.agency,
                subject=subject, message=f"out for {hours} h, longer than a shift",
                since=w.issued_at + shift))
    return out
