"""From what storage returns to what the API answers, with batched look-ups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from resguardo.api.schemas.common import EventOut
from resguardo.api.schemas.custody import LossReportOut, RequestOut
from resguardo.api.schemas.registry import (
    FirearmOut,
    LicenceOut,
    LocationOut,
    OfficerOut,
    OrganizationOut,
)
from resguardo.domain.entities import Firearm, Officer, Organization
from resguardo.domain.events import Event
from resguardo.storage import api_queries as q
from resguardo.storage.uow import UnitOfWork


def event(uow: UnitOfWork, ev: Event) -> EventOut:
    return EventOut(position=ev.position, type=ev.type, at=ev.at, actor=ev.actor,
                    actor_id=ev.actor_id, org_id=ev.org_id, subject_type=ev.subject_type,
                    subject_id=ev.subject_id, corrects=ev.corrects, reason=ev.reason,
                    request_id=ev.request_id, payload=ev.payload, secret=ev.secret)


def organizations(uow: UnitOfWork, orgs: Sequence[Organization | dict]) -> list[OrganizationOut]:
    rows: list[dict[str, Any]] = [
        o if isinstance(o, dict) else {"id": o.id, "code": o.code, "name": o.name,
                                       "kind": o.kind.value, "parent_id": o.parent_id}
        for o in orgs]
    parents = uow.repo.org_names([r["parent_id"] for r in rows if r["parent_id"] is not None])
    places = {r["id"]: uow.repo.place(r["id"]) for r in rows}
    return [OrganizationOut(id=r["id"], code=r["code"], name=r["name"], kind=r["kind"],
                            parent_id=r["parent_id"], parent=parents.get(r["parent_id"] or -1),
                            time_zone=places[r["id"]]["time_zone"],
                            city=places[r["id"]]["city"], address=places[r["id"]]["address"])
            for r in rows]


def locations(uow: UnitOfWork, rows: Sequence[dict]) -> list[LocationOut]:
    names = uow.repo.org_names([r["agency_id"] for r in rows])
    return [LocationOut(id=r["id"], agency_id=r["agency_id"], agency=names[r["agency_id"]],
                        code=r["code"], name=r["name"], kind=r["kind"]) for r in rows]


def licences(rows: Sequence[dict]) -> list[LicenceOut]:
    return [LicenceOut(id=r["id"], number=r["number"], holder_id=r["holder_id"],
                       holder=r["holder"], valid_from=r["valid_from"], valid_to=r["valid_to"],
                       agencies=r["agencies"]) for r in rows]


def officers(uow: UnitOfWork, items: Sequence[Officer]) -> list[OfficerOut]:
    names = uow.repo.org_names([o.agency_id for o in items])
    return [OfficerOut(id=o.id, agency_id=o.agency_id, agency=names[o.agency_id], badge=o.badge,
                       name=o.name, cuip=o.cuip, status=o.status,
                       credential_folio=o.credential_folio,
                       credential_expiry=o.credential_expiry,
                       qualification_expiry=o.qualification_expiry, licence_id=o.licence_id)
            for o in items]


def firearms(uow: UnitOfWork, items: Sequence[Firearm]) -> list[FirearmOut]:
    names = uow.repo.org_names([f.agency_id for f in items])
    places = uow.repo.location_codes([f.location_id for f in items])
    holders = uow.repo.officers_by_id([f.custodian_id for f in items]
                                      + [f.record_officer_id for f in items])
    out = []
    for f in items:
        holder = holders.get(f.custodian_id or -1)
        out.append(FirearmOut(
            id=f.id, serial=f.serial, make=f.make, model=f.model, calibre=f.calibre,
            kind=f.kind, status=f.status.value, agency_id=f.agency_id,
            agency=names[f.agency_id], location_id=f.location_id,
            location=places.get(f.location_id or -1), custodian_id=f.custodian_id,
            custodian=holder.badge if holder else None, folio=f.folio,
            barrel_serial=f.barrel_serial, ballistic_id=f.ballistic_id,
            licence_id=f.licence_id, acquired_on=f.acquired_on, supplier=f.supplier,
            purchase_ref=f.purchase_ref, status_since=f.status_since,
            record_officer_id=f.record_officer_id,
            officer_of_record=(holders[f.record_officer_id].badge
                               if f.record_officer_id in holders else None)))
    return out


def requests(uow: UnitOfWork, rows: Sequence[dict[str, Any]]) -> list[RequestOut]:
    orgs = q.org_codes(uow.repo, [r["agency_id"] for r in rows] + [r["to_agency_id"] for r in rows])
    people = q.user_names(uow.repo, [r["requested_by"] for r in rows]
                          + [r["decided_by"] for r in rows])
    return [RequestOut(id=r["id"], kind=r["kind"], firearm_id=r["firearm_id"], serial=r["serial"],
                       make=r["make"], agency=orgs[r["agency_id"]],
                       to_agency=orgs.get(r["to_agency_id"] or -1),
                       requested_by=people.get(r["requested_by"] or -1),
                       requested_at=r["requested_at"], reason=r["reason"], state=r["state"],
                       decided_by=people.get(r["decided_by"] or -1), decided_at=r["decided_at"])
            for r in rows]


def loss_reports(uow: UnitOfWork, rows: Sequence[dict[str, Any]]) -> list[LossReportOut]:
    orgs = q.org_codes(uow.repo, [r["agency_id"] for r in rows])
    return [LossReportOut(id=r["id"], firearm_id=r["firearm_id"], serial=r["serial"],
                          make=r["make"], agency=orgs[r["agency_id"]], stolen=bool(r["stolen"]),
                          occurred_on=r["occurred_on"], place=r["place"],
                          on_duty=bool(r["on_duty"]), complaint_number=r["complaint_number"],
                          reported_at=r["reported_at"], notified_at=r["notified_at"],
                          notification_ref=r["notification_ref"],
                          recovered_at=r["recovered_at"]) for r in rows]
