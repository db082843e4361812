"""A firearm's custody history, as recorded, as corrected, or both."""

from __future__ import annotations

from typing import Any

from resguardo.domain.corrections import REQUESTED, apply_corrections
from resguardo.domain.events import Event
from resguardo.domain.policy import Action, authorize
from resguardo.storage.uow import UnitOfWork

VIEWS = ("recorded", "corrected", "both")


def firearm_detail(uow: UnitOfWork, serial: str, *, make: str | None = None,
                   view: str = "both", page: tuple[int, int] | None = None) -> dict[str, Any]:
    """A firearm and its history, oldest entry first.

    ``page``: (offset, limit) counted from the newest entry: only those entries
    (still oldest first), and ``older`` says whether there are older ones.
    Without it the whole history.
    """
    firearm = uow.repo.firearm(serial, make)
    if uow.actor is not None:
        authorize(uow.actor, Action.READ, uow.repo.org_unscoped(firearm.agency_id).path, "firearm")
    older = False
    if page is None:
        events = uow.repo.firearm_history(firearm.id)
    else:
        events, older = uow.repo.firearm_history_page(firearm.id, *page)
        events.reverse()
    fixes = uow.repo.corrections_of([e.position for e in events])
    officers = uow.repo.officers_by_id_unscoped([e.payload.get("officer_id") for e in events]
                                                + [firearm.custodian_id])
    locations = uow.repo.location_codes_unscoped(
        [e.payload.get("location_id") for e in events] + [firearm.location_id])
    orgs = uow.repo.org_names([firearm.agency_id] + [e.payload.get("to_agency_id") or 0
                                                    for e in events])
    entries = []
    for ev in events:
        if ev.type == "entry.corrected":
            continue
        entries.append(_entry(ev, fixes.get(ev.position, []), officers, locations, orgs, view))
    custodian = officers.get(firearm.custodian_id or -1)
    return {
        "id": firearm.id, "serial": firearm.serial,
        "serial_as_typed": serial_as_typed(uow, firearm.id),
        "make": firearm.make, "model": firearm.model,
        "calibre": firearm.calibre, "kind": firearm.kind.value, "folio": firearm.folio,
        "barrel_serial": firearm.barrel_serial, "ballistic_id": firearm.ballistic_id,
        "acquired_on": firearm.acquired_on, "supplier": firearm.supplier,
        "purchase_ref": firearm.purchase_ref,
        "agency": orgs.get(firearm.agency_id), "status": firearm.status.value,
        "location": locations.get(firearm.location_id or -1),
        "custodian": ({"badge": custodian.badge, "name": custodian.name} if custodian else None),
        "since": firearm.status_since,
        "history": entries,
        "older": older,
    }


def serial_as_typed(uow: UnitOfWork, firearm_id: int) -> str | None:
    """The weapon's serial as it was typed, when that differs from the form it is recorded and
    shown in: kept by its registration, or by the correction that gave it its serial."""
    # A weapon's id is the position of its registration (storage.projector). Read whoever
    # recorded it: the caller already sees the weapon (its page, its whole history), and a
    # weapon transferred in was registered by another agency, whose entries are not theirs.
    registered = uow.repo.event_unscoped(firearm_id)
    if registered.type != "firearm.registered":
        return None
    fixes = uow.repo.corrections_of([firearm_id]).get(firearm_id, [])
    typed = apply_corrections(registered.payload, [f.payload for f in fixes]).get(
        "serial_as_typed")
    return typed if isinstance(typed, str) else None


def _entry(ev: Event, fixes: list[Event], officers: dict, locations: dict, orgs: dict,
           view: str) -> dict[str, Any]:
    corrected = apply_corrections(ev.payload, [f.payload for f in fixes])
    shown = ev.payload if view == "recorded" else corrected
    officer = officers.get(shown.get("officer_id") or -1)
    entry: dict[str, Any] = {
        "position": ev.position, "at": ev.at, "event": ev.type, "actor": ev.actor,
        "reason": ev.reason,
        "officer": f"{officer.badge} {officer.name}" if officer else None,
        "location": locations.get(shown.get("location_id") or -1),
    }
    if shown.get("to_agency_id"):
        entry["to_agency"] = orgs.get(shown["to_agency_id"])
    for key in ("place", "complaint_number", "occurred_on", "shop", "notified_at", "serial",
                "serial_as_typed", "make", "model", "received_by"):
        if shown.get(key) is not None:
            entry[key] = shown[key]
    if ev.type == REQUESTED:  # an identity correction asked for: what it would change
        entry["requested"] = {k: {"from": ev.payload["previous"].get(k), "to": v}
                              for k, v in ev.payload["changes"].items()
                              if not k.endswith("_key")}
    if view != "recorded" and fixes:
        entry["corrections"] = [{"position": f.position, "at": f.at, "actor": f.actor,
                                 "reason": f.reason, "changes": f.payload["changes"],
                                 "previous": f.payload["previous"]} for f in fixes]
    if view == "both" and fixes:
        entry["as_recorded"] = {k: ev.payload.get(k) for f in fixes for k in f.payload["changes"]}
    return entry
