"""Identity corrections as the overseer sees them: every correction of a weapon's
serial, make, kind or calibre at an agency over a period, who asked, who decided.

The requests themselves are made, approved and rejected in
:mod:`resguardo.services.custody` (``correct``, ``approve_correction``,
``reject_request``), with the same machinery as decommissions and transfers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from resguardo.domain.corrections import is_identity
from resguardo.domain.errors import ValidationFailed
from resguardo.domain.events import Event
from resguardo.domain.policy import Action, authorize
from resguardo.domain.timefmt import iso
from resguardo.storage import correction_queries as q
from resguardo.storage.uow import UnitOfWork


def identity_corrections(uow: UnitOfWork, agency: str | int, start: datetime,
                         end: datetime) -> list[dict[str, Any]]:
    """Identity corrections of ``agency``'s weapons (its code or id, in the caller's scope)
    pending at some moment of [start, end), or asked for or decided within it, oldest
    request first.

    Each: ``request`` (the asking entry's position; None for a correction applied
    without one, made before the two-person rule), ``firearm_id``, ``serial`` and
    ``make`` (as registered now), ``changes`` and ``previous`` (field -> value, the
    identity fields and any other field corrected with them), ``reason``,
    ``requested_by`` and ``requested_at``, ``state`` (pending, approved, rejected, or
    ``applied_without_approval``), ``decided_by``, ``decided_at``, ``decision`` (the
    deciding entry's position) and ``decision_reason`` (why it was rejected).
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationFailed("give the period's instants with their time zone", field="start")
    if end <= start:
        raise ValidationFailed("the period ends before it starts", field="end")
    org = uow.repo.org(agency)
    if uow.actor is not None:
        authorize(uow.actor, Action.READ, org.path, "organization")
    since, until = iso(start), iso(end)
    requests = q.correction_requests(uow.repo, org.id, since, until)
    asked = q.entries(uow.repo, [int(r["id"]) for r in requests])
    decided = q.decisions(uow.repo, requests)
    direct = [ev for ev in q.direct_corrections(uow.repo, org.id, since, until)
              if is_identity(ev.payload["corrected_type"], ev.payload["changes"])]
    firearms = q.firearm_names_unscoped(uow.conn, [int(r["firearm_id"]) for r in requests]
                                        + [int(ev.subject_id or 0) for ev in direct])
    out = []
    for r in requests:
        ev = asked[int(r["id"])]
        decision = decided.get(int(r["id"]))
        item = _item(ev, firearms.get(int(r["firearm_id"])), r["state"])
        if decision is not None:
            item.update(decided_by=decision.actor, decided_at=decision.at,
                        decision=decision.position,
                        decision_reason=decision.reason if decision.type == "request.rejected"
                        else None)
        out.append(item)
    for ev in direct:
        item = _item(ev, firearms.get(int(ev.subject_id or 0)), "applied_without_approval")
        item.update(request=None, decided_by=ev.actor, decided_at=ev.at, decision=ev.position)
        out.append(item)
    out.sort(key=lambda i: i["requested_at"])
    return out


def _item(ev: Event, firearm: tuple[str, str] | None, state: str) -> dict[str, Any]:
    p = ev.payload
    return {
        "request": ev.position, "firearm_id": int(ev.subject_id or 0),
        "serial": firearm[0] if firearm else None, "make": firearm[1] if firearm else None,
        "changes": {k: v for k, v in p["changes"].items() if not k.endswith("_key")},
        "previous": {k: v for k, v in p["previous"].items() if not k.endswith("_key")},
        "reason": ev.reason, "requested_by": ev.actor, "requested_at": ev.at, "state": state,
        "decided_by": None, "decided_at": None, "decision": None, "decision_reason": None,
    }
