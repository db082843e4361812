"""Open alerts in the caller's scope, and acknowledging them."""

from __future__ import annotations

from collections.abc import Callable

from resguardo.domain import alerts
from resguardo.domain.alerts import Alert
from resguardo.domain.entities import NewEvent
from resguardo.domain.errors import T_, Conflict, NotFound, ValidationFailed
from resguardo.domain.events import Event
from resguardo.domain.policy import Action, authorize
from resguardo.domain.timefmt import parse_date, parse_instant
from resguardo.services import inspections, licences, powers, storage_health, witnessing
from resguardo.storage.uow import UnitOfWork

#: Alerts beside losses and custody: revistas' open findings, witnesses' refusals, grants
#: of power awaiting or given, weapons not declared on a licence and officers carrying
#: without a credential folio, writes refused for a full disk.
SOURCES: tuple[Callable[[UnitOfWork], list[Alert]], ...] = (
    inspections.finding_alerts, witnessing.witness_alerts, powers.power_alerts,
    licences.licence_alerts, storage_health.storage_alerts)


def open_alerts(uow: UnitOfWork, *, loss_deadline, shift_length,  # type: ignore[no-untyped-def]
                include_acknowledged: bool = False) -> list[Alert]:
    """Every alert in scope, oldest first."""
    if uow.actor is not None:
        authorize(uow.actor, Action.READ)
    now = uow.now()
    losses = [alerts.OpenLoss(r["id"], r["agency_id"], r["agency"], r["serial"], r["make"],
                              bool(r["stolen"]), parse_instant(r["reported_at"]))
              for r in uow.repo.unnotified_losses()]
    issued = [alerts.IssuedWeapon(
        r["firearm_id"], r["agency_id"], r["agency"], r["serial"], r["make"], r["badge"],
        r["officer_name"], r["officer_status"], parse_date(r["credential_expiry"]),
        parse_date(r["qualification_expiry"]), parse_instant(r["issued_at"]))
        for r in uow.repo.issued_weapons()]
    uow.zones_of(w.agency_id for w in issued)
    days = {w.agency_id: uow.today(w.agency_id, now) for w in issued}
    found = alerts.loss_alerts(losses, now, loss_deadline) + alerts.custody_alerts(
        issued, now, shift_length, days)
    for source in SOURCES:
        found.extend(source(uow))
    acked = uow.repo.acknowledged()
    result = []
    for alert in found:
        if alert.key in acked:
            if not include_acknowledged:
                continue
            alert = Alert(**{**{f: getattr(alert, f) for f in alert.__slots__},
                             "acknowledged": True})
        result.append(alert)
    return sorted(result, key=lambda a: (a.since, a.key))


def acknowledge(uow: UnitOfWork, key: str, note: str, *, loss_deadline,  # type: ignore[no-untyped-def]
                shift_length) -> Event:
    if not note.strip():
        raise ValidationFailed("say what was done about the alert", field="note")
    uow.lock()
    match = [a for a in open_alerts(uow, loss_deadline=loss_deadline, shift_length=shift_length,
                                    include_acknowledged=True) if a.key == key]
    if not match:
        raise NotFound(f"alert {key} not found")
    alert = match[0]
    if uow.actor is not None:
        authorize(uow.actor, Action.ALERT_ACK, uow.repo.org_unscoped(alert.agency_id).path, "alert")
    if alert.acknowledged:
        raise Conflict(T_("alert %(key)s is already acknowledged"), key=key)
    return uow.append(NewEvent("alert.acknowledged", {"alert_key": key, "kind": alert.kind.value},
                               reason=note.strip(), org_id=alert.agency_id))
