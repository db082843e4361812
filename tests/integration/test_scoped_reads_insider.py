"""The insider at the storage layer: MUN1's armorer and chief ask every read of an
aggregate for MUN2's weapons, officers, loss reports, requests, revista books and
corrections by id, badge or agency, and get nothing.

Every surface (web, API, CLI, exports, search, trace, alerts, labels) reads through
these functions, so one that forgot scope would hand MUN2's data to whichever page
or command calls it with an id it did not check. The same reads, asked by the system
itself (``actor=None``), do find MUN2's objects: each check below can fail.

The reads named ``..._unscoped`` are the reviewed exceptions (docs/architecture.md,
"Scoped reads"); the last test pins what each of them lets through and no more.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy.exc import NoResultFound

from resguardo.domain.errors import NotFound
from resguardo.domain.registry import FirearmInput, OfficerInput
from resguardo.domain.serials import make_key
from resguardo.services import ammunition, credential, custody, inspections, registry
from resguardo.storage import (
    api_queries,
    correction_queries,
    export_queries,
    inspection_queries,
    trace_queries,
    web_queries,
)
from resguardo.storage.repositories import Repositories

from world import do

#: Text that names something of MUN2 (its weapons' serials, its officer's badge and name).
MUN2_MARKS = ("BER-B", "'Q1'", "Raúl Díaz", "LOC-M2")


def _mun2_world(app, clock) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """MUN2 with a weapon issued, one of record, one stolen, one on its way to MUN3, one
    asked to go there, one awaiting decommission, a correction asked for, and a sealed revista planned."""
    for serial in ("BER-B200", "BER-B300", "BER-B400", "BER-B500", "BER-B600"):
        do(app, "armero2", registry.register_firearm, "MUN2", "ARM1", FirearmInput(
            serial=serial, make="Beretta", calibre="9x19mm", kind="pistol"))
    do(app, "jefe2", registry.add_officer, "MUN2", OfficerInput(
        "Q2", "Marta Gil", credential_folio="CP-2", credential_expiry=date(2030, 1, 1),
        qualification_expiry=date(2030, 1, 1)))
    do(app, "jefe2", credential.assign, "Q2", "BER-B200", reason="arma de cargo")
    do(app, "admin", registry.add_licence, "LOC-M2", "MUN2", ["MUN2"], date(2025, 1, 1),
       date(2030, 1, 1))
    do(app, "jefe2", registry.attach_firearm, "BER-B200", "LOC-M2", "alta")
    do(app, "jefe2", registry.attach_officer, "MUN2", "Q2", "LOC-M2", "alta")
    do(app, "armero2", custody.issue, "BER-B100", "Q1")
    do(app, "armero2", ammunition.receive, "MUN2", "ARM1", "9x19mm", "L-7", 500)
    do(app, "armero2", ammunition.issue, "MUN2", "ARM1", "Q1", "9x19mm", "L-7", 50)
    do(app, "armero2", custody.report_missing, "BER-B300", stolen=True,
       occurred_on=date(2025, 3, 2), place="Centro", on_duty=True, complaint_number="X-1",
       complaint_authority="FGE Jalisco")
    do(app, "armero2", custody.request_transfer, "BER-B400", "MUN3", "reasignación")
    do(app, "jefe2", custody.approve_transfer, "BER-B400")
    do(app, "armero2", custody.request_decommission, "BER-B500", "desgaste")
    do(app, "armero2", custody.request_transfer, "BER-B600", "MUN3", "reasignación")
    with app.read(None) as uow:
        repo = uow.repo
        mun2 = repo.org("MUN2")
        ids = {code: repo.firearm(code).id for code in
               ("BER-B100", "BER-B200", "BER-B300", "BER-B400", "BER-B500")}
        q1 = repo.officer(mun2.id, "Q1").id
        q2 = repo.officer(mun2.id, "Q2").id
        arm1 = repo.location(mun2.id, "ARM1").id
        loc_m2 = repo.licence_id("LOC-M2")
        registered = ids["BER-B200"]  # a weapon's id is the position of its registration
    do(app, "armero2", custody.correct, registered, {"serial": "BER-B201"}, "error de captura")
    done = do(app, "inspector", inspections.plan, "MUN2", clock.now.date())
    do(app, "inspector", inspections.open_, done.position)
    do(app, "inspector", inspections.close, done.position)
    planned = do(app, "inspector", inspections.plan, "MUN2", clock.now.date(), sealed=True)
    with app.read(None) as uow:
        revista = inspection_queries.get(uow.repo, planned.position)
    return {"mun2": mun2.id, "ids": ids, "q1": q1, "q2": q2, "arm1": arm1, "licence": loc_m2,
            "revista": revista,
            "closed": done.position,
            "b100": ids["BER-B100"], "b300": ids["BER-B300"], "b400": ids["BER-B400"],
            "b500": ids["BER-B500"]}


def _mentions_mun2(result: Any) -> bool:
    text = repr(result)
    return any(mark in text for mark in MUN2_MARKS)


Read = Callable[[Repositories, dict[str, Any]], Any]


def _reads() -> dict[str, tuple[Read, Callable[[Any, dict[str, Any]], bool]]]:
    """name -> (the read, given MUN2's objects; whether its answer shows any of them)."""
    shows = lambda result, w: _mentions_mun2(result)  # noqa: E731
    agency_in = lambda result, w: w["mun2"] in {k[0] for k in result}  # noqa: E731
    at_mun2 = lambda result, w: any(i.agency_id == w["mun2"] for i in result)  # noqa: E731
    agency_is = lambda result, w: any(  # noqa: E731
        row["agency_id"] == w["mun2"] for row in result)
    q = export_queries
    return {
        # weapons
        "firearm": (lambda r, w: r.firearm("BER-B100"), shows),
        "firearm_by_id": (lambda r, w: r.firearm_by_id(w["b100"]), shows),
        "firearms(agency)": (lambda r, w: r.firearms(agency_id=w["mun2"]).items, shows),
        "firearms(search)": (lambda r, w: r.firearms(search="BER").items, shows),
        "firearms(custodian)": (lambda r, w: r.firearms(custodian_id=w["q1"]).items, shows),
        "status_counts": (lambda r, w: r.status_counts(), agency_in),
        "weapons_held": (lambda r, w: r.weapons_held(w["q1"]), shows),
        "weapons_of_record": (lambda r, w: r.weapons_of_record(w["q2"]), shows),
        "issued_weapons": (lambda r, w: r.issued_weapons(), shows),
        "api firearm_ref": (lambda r, w: api_queries.firearm_ref(r, w["b100"]),
                            lambda result, w: result is not None),
        "export firearm_rows": (lambda r, w: list(q.firearm_rows(r, agency_id=w["mun2"])), shows),
        "export firearms_by_id": (lambda r, w: q.firearms_by_id(r, list(w["ids"].values())),
                                  shows),
        "export carrying_without_folio": (lambda r, w: q.carrying_without_folio(r), shows),
        "trace candidate_rows": (lambda r, w: trace_queries.candidate_rows(
            r, list(w["ids"].values())), shows),
        "trace registry_in_scope": (lambda r, w: list(trace_queries.registry_in_scope(r)),
                                    shows),
        "revista registry_for": (lambda r, w: inspection_queries.registry_for(
            r, w["revista"]), shows),
        "revista annex_books": (lambda r, w: inspection_queries.annex_books(r, w["revista"]),
                                shows),
        # officers
        "officer": (lambda r, w: r.officer(w["mun2"], "Q1"), shows),
        "officer_by_id": (lambda r, w: r.officer_by_id(w["q1"]), shows),
        "officers_by_id": (lambda r, w: r.officers_by_id([w["q1"]]), shows),
        "officers(agency)": (lambda r, w: r.officers(agency_id=w["mun2"]).items, shows),
        "badge_taken": (lambda r, w: r.badge_taken(w["mun2"], "Q1"),
                        lambda result, w: result is True),
        "agency_badges": (lambda r, w: r.agency_badges(w["mun2"]), shows),
        "badges_taken": (lambda r, w: r.badges_taken(w["mun2"], ["Q1", "Q2"]), shows),
        "api officers_matching": (lambda r, w: api_queries.officers_matching(
            r, q="Q1").items, shows),
        "export officer_rows": (lambda r, w: list(q.officer_rows(r, agency_id=w["mun2"])),
                                shows),
        "export officers_by_id": (lambda r, w: q.officers_by_id(r, [w["q1"]]), shows),
        # loss and theft reports
        "open_loss_report": (lambda r, w: r.open_loss_report(w["b300"]),
                             lambda result, w: True),
        "last_loss_report": (lambda r, w: r.last_loss_report(w["b300"]),
                             lambda result, w: True),
        "loss_reports": (lambda r, w: r.loss_reports(), shows),
        "unnotified_losses": (lambda r, w: r.unnotified_losses(), shows),
        "api loss_reports_page": (lambda r, w: api_queries.loss_reports_page(r).items, shows),
        # requests
        "pending_request": (lambda r, w: r.pending_request(w["b500"], "decommission"),
                            lambda result, w: True),
        "requests": (lambda r, w: r.requests(state=None), shows),
        "api requests_page": (lambda r, w: api_queries.requests_page(r).items, shows),
        "api transfer_to_scope": (lambda r, w: api_queries.transfer_to_scope(r, w["b400"]),
                                  lambda result, w: result is not None),
        "web transfers_in_transit(out)": (lambda r, w: web_queries.transfers_in_transit(
            r, incoming=False), shows),
        "web transfers_in_transit(in)": (lambda r, w: web_queries.transfers_in_transit(
            r, incoming=True), shows),
        "web transfers_pending": (lambda r, w: web_queries.transfers_pending(r), shows),
        "web transfer_in_transit": (lambda r, w: web_queries.transfer_in_transit(r, w["b400"]),
                                    lambda result, w: result is not None),
        # locations (MUN1 has an ARM1 too: these look for MUN2's by agency and id)
        "location": (lambda r, w: r.location(w["mun2"], "ARM1"), lambda result, w: True),
        "location_by_id": (lambda r, w: r.location_by_id(w["arm1"]), lambda result, w: True),
        "locations(agency)": (lambda r, w: r.locations(w["mun2"]),
                              lambda result, w: result != []),
        "location_codes": (lambda r, w: r.location_codes([w["arm1"]]),
                           lambda result, w: result != {}),
        "api locations_page": (lambda r, w: api_queries.locations_page(
            r, agency_id=w["mun2"]).items, lambda result, w: result != []),
        "api location_in_scope": (lambda r, w: api_queries.location_in_scope(r, w["arm1"]),
                                  lambda result, w: result is not None),
        "export location_rows": (lambda r, w: list(q.location_rows(r, agency_id=w["mun2"])),
                                 lambda result, w: result != []),
        "ammo_stock": (lambda r, w: r.ammo_stock(w["mun2"]), lambda result, w: result != []),
        "ammo_held": (lambda r, w: r.ammo_held(w["mun2"]), shows),
        "revista expected_rounds": (lambda r, w: inspection_queries.expected_rounds(
            r, w["mun2"]), lambda result, w: result != {}),
        # licences
        "licence_id": (lambda r, w: r.licence_id("LOC-M2"), lambda result, w: True),
        "licence_ref": (lambda r, w: r.licence_ref("LOC-M2"), shows),
        "licences": (lambda r, w: r.licences(), shows),
        "licences_covering": (lambda r, w: r.licences_covering(w["mun2"]), shows),
        "api licences_page": (lambda r, w: api_queries.licences_page(r).items, shows),
        "api licence_in_scope": (lambda r, w: api_queries.licence_in_scope(r, w["licence"]),
                                 shows),
        "export licence": (lambda r, w: q.licence(r, "LOC-M2"), shows),
        "export licence_weapons": (lambda r, w: q.licence_weapons(r, w["licence"]), shows),
        "export licence_officers": (lambda r, w: q.licence_officers(r, w["licence"]),
                                    lambda result, w: result != []),
        "revista agency_licences": (lambda r, w: inspection_queries.agency_licences(
            r, w["mun2"]), shows),
        # revistas
        "revista get": (lambda r, w: inspection_queries.get(r, w["revista"].id),
                        lambda result, w: result is not None),
        "revista get(closed)": (lambda r, w: inspection_queries.get(r, w["closed"]),
                                lambda result, w: result is not None),
        "revista details": (lambda r, w: inspection_queries.details(r, w["closed"]),
                            lambda result, w: True),
        "revista in_scope": (lambda r, w: inspection_queries.in_scope(r), at_mun2),
        "revista planned_or_open": (lambda r, w: inspection_queries.planned_or_open(r),
                                    lambda result, w: w["mun2"] in result),
        "revista last_closed": (lambda r, w: inspection_queries.last_closed(r),
                                lambda result, w: w["mun2"] in result),
        "revista closed_before": (lambda r, w: inspection_queries.closed_before(
            r, w["mun2"], w["revista"].id), lambda result, w: result != []),
        "revista open_findings": (lambda r, w: inspection_queries.open_findings(r), agency_is),
        "revista acta": (lambda r, w: r.acta(w["closed"]), lambda result, w: True),
        "export finding_rows": (lambda r, w: list(q.finding_rows(r, agency_id=w["mun2"])),
                                lambda result, w: result != []),
        "corrections correction_requests": (lambda r, w: correction_queries.correction_requests(
            r, w["mun2"], "2000-01-01", "2100-01-01"), lambda result, w: result != []),
    }


def _answer(read: Read, repo: Repositories, w: dict[str, Any]) -> tuple[bool, Any]:
    try:
        return True, read(repo, w)
    except (NotFound, NoResultFound):
        return False, None


@pytest.mark.parametrize("insider", ["armero1", "jefe1"])
def test_an_insider_of_another_agency_reads_nothing_of_mun2(world, clock, insider):
    w = _mun2_world(world, clock)
    reads = _reads()
    with world.read(None) as uow:   # the system sees MUN2's objects: every check can fail
        blind = [name for name, (read, shows) in reads.items()
                 if not (lambda found: found[0] and shows(found[1], w))(
                     _answer(read, uow.repo, w))]
    assert blind == [], f"reads that find nothing of MUN2 even for the system: {blind}"
    with world.read(insider) as uow:
        leaks = {}
        for name, (read, shows) in reads.items():
            found, result = _answer(read, uow.repo, w)
            if found and shows(result, w):
                leaks[name] = result
    assert leaks == {}, f"{insider} reads MUN2's data through: {sorted(leaks)}"


def test_mun2_staff_read_their_own_weapons_through_the_same_reads(world, clock):
    """The bases narrow, they do not blind: MUN2's armorer finds its own objects."""
    w = _mun2_world(world, clock)
    with world.read("armero2") as uow:
        repo = uow.repo
        assert repo.firearm("BER-B100").agency_id == w["mun2"]
        assert [f.serial for f in repo.weapons_held(w["q1"])] == ["BER-B100"]
        assert repo.badge_taken(w["mun2"], "q1")
        assert [r["serial"] for r in repo.loss_reports()] == ["BER-B300"]
        assert {r["serial"] for r in repo.requests(state=None)} >= {"BER-B400", "BER-B500"}
        assert web_queries.transfer_in_transit(repo, w["b400"]) is not None


def test_mun3_sees_the_transfer_addressed_to_it_and_nothing_else_of_mun2(world, clock):
    """A transfer is the business of both ends: the receiving agency sees the request
    and the weapon on its way (``requests(side="to")``), not MUN2's other weapons."""
    w = _mun2_world(world, clock)
    with world.read("armero3") as uow:
        repo = uow.repo
        incoming = web_queries.transfers_in_transit(repo, incoming=True)
        assert [r["serial"] for r in incoming] == ["BER-B400"]
        assert api_queries.transfer_to_scope(repo, w["b400"]) is not None
        assert [r["serial"] for r in repo.requests(state=None)] == ["BER-B400", "BER-B600"]
        with pytest.raises(NotFound):
            repo.firearm_by_id(w["b400"])   # still MUN2's until received
        assert repo.loss_reports() == [] or all(
            r["agency_id"] != w["mun2"] for r in repo.loss_reports())


def test_the_unscoped_reads_tell_only_what_they_are_reviewed_for(world, clock):
    w = _mun2_world(world, clock)
    with world.read("armero1") as uow:
        repo = uow.repo
        b100 = w["b100"]
        # a weapon's identity is national: registering one checks who holds it, anywhere
        with world.read(None) as system:
            found = system.repo.firearm_by_id(b100)
        assert repo.firearm_holder_unscoped(make_key(found.make), found.serial_key) == w["mun2"]
        # names for entries the viewer could already read (a received weapon's history)
        assert set(repo.officers_by_id_unscoped([w["q1"]])) == {w["q1"]}
        assert set(web_queries.firearm_names_unscoped(repo, [b100])) == {b100}
        assert repo.location_codes_unscoped([w["arm1"]]) == {w["arm1"]: "ARM1"}
        # a licence number is national; a licence's movements name where a weapon went
        assert repo.licence_taken_unscoped("LOC-M2")
        assert export_queries.licence_numbers_unscoped(repo, [w["licence"]]) == {
            w["licence"]: "LOC-M2"}
        # a revista that scans another agency's weapon says whose it is
        [other] = inspection_queries.others_with_keys_unscoped(repo, 0, [found.serial_key])
        assert (other.serial, other.agency) == ("BER-B100", "MUN2")


@pytest.mark.parametrize("staff", ["armero2", "jefe2"])
def test_the_inspected_agency_does_not_learn_of_a_sealed_revista_until_it_opens(
        world, clock, staff):
    w = _mun2_world(world, clock)
    sealed = w["revista"].id
    with world.read(staff) as uow:
        repo = uow.repo
        assert inspection_queries.get(repo, sealed) is None
        assert sealed not in [i.id for i in inspection_queries.in_scope(repo)]
        assert inspection_queries.planned_or_open(repo) == {}
        assert inspection_queries.get(repo, w["closed"]) is not None   # a closed one it sees
    with world.read("inspector") as uow:     # the inspectors see it
        assert inspection_queries.get(uow.repo, sealed) is not None
    do(world, "inspector", inspections.open_, sealed)
    with world.read(staff) as uow:           # open: the agency is told, the count begins
        assert inspection_queries.get(uow.repo, sealed) is not None
