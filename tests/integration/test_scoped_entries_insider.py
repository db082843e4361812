"""The insider against the log's entries, a revista's count and a licence's agencies.

MUN1's armorer and chief ask every read of the log's entries (a weapon's history, an
officer's, corrections, the trace's chain of custody, the corrections report, the
revista's own entries), of a revista's count (scans, rounds, findings) and of a
licence's covered agencies for MUN2's objects by id, and get nothing. MUN2's own staff
do not follow the count of a revista at MUN2 while it runs, and an account whose scope
is MUN2 itself (an internal auditor) learns nothing of a sealed revista from the log
until it opens. The system (``actor=None``) finds everything, so each check can fail.

The rule lives in ``storage/scoped.py`` (``entries``, ``scans``, ``rounds``,
``findings``, ``licence_agencies``); see docs/architecture.md, "Scoped reads".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from resguardo.api import create_app
from resguardo.domain.errors import NotFound
from resguardo.domain.inspections import count_visible_to
from resguardo.domain.registry import FirearmInput
from resguardo.domain.serials import serial_key
from resguardo.services import ammunition, custody, inspections, ledger_proofs, registry, users
from resguardo.services.auth import AuthSettings
from resguardo.storage import (
    api_queries,
    correction_queries,
    inspection_queries,
    trace_queries,
    web_queries,
)
from resguardo.storage.repositories import Repositories

from world import PASSWORD, do

Read = Callable[[Repositories, dict[str, Any]], Any]


def _registration(app, serial: str) -> int:  # type: ignore[no-untyped-def]
    with app.read(None) as uow:
        return next(e.position for e in uow.repo.iter_events()
                    if e.type == "firearm.registered" and e.payload["serial"] == serial)


def _world(app, clock) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """MUN2 with a weapon issued, a corrected registration, rounds received, an identity
    correction asked for and decided, a closed revista that counted one weapon and some
    rounds (its findings: the weapons not seen), a weapon sent to and received by MUN3;
    SSP2 (another state) holds a licence covering MUN3."""
    for serial in ("BER-B200", "BER-B400"):
        do(app, "armero2", registry.register_firearm, "MUN2", "ARM1", FirearmInput(
            serial=serial, make="Beretta", calibre="9x19mm", kind="pistol"))
    do(app, "armero2", custody.issue, "BER-B100", "Q1")
    do(app, "armero2", ammunition.receive, "MUN2", "ARM1", "9x19mm", "L-7", 500)
    do(app, "armero2", ammunition.issue, "MUN2", "ARM1", "Q1", "9x19mm", "L-7", 50)
    reg_b200 = _registration(app, "BER-B200")
    do(app, "armero2", custody.correct, reg_b200, {"model": "92X"}, "error de captura")
    do(app, "armero2", custody.correct, reg_b200, {"serial": "BER-B201"}, "matrícula mal leída")
    do(app, "jefe2", custody.approve_correction, "BER-B200")
    do(app, "armero2", custody.request_transfer, "BER-B400", "MUN3", "reasignación")
    do(app, "jefe2", custody.approve_transfer, "BER-B400")
    do(app, "armero3", custody.receive_transfer, "BER-B400", "ARM1")
    done = do(app, "inspector", inspections.plan, "MUN2", clock.now.date())
    do(app, "inspector", inspections.open_, done.position)
    do(app, "inspector", inspections.scan, done.position, "BER-B100", holder="Q1")
    do(app, "inspector", inspections.count_rounds, done.position, "ARM1", "9x19mm", "L-7", 450)
    do(app, "inspector", inspections.close, done.position)
    do(app, "admin", registry.add_licence, "LOC-S2", "SSP2", ["MUN3"], date(2025, 1, 1),
       date(2030, 1, 1))
    with app.read(None) as uow:
        repo = uow.repo
        mun2 = repo.org("MUN2")
        ids = {s: repo.firearm(s).id for s in ("BER-B100", "BER-B201", "BER-B400")}
        requests = repo.requests(state=None)
        return {"mun2": mun2.id, "b100": ids["BER-B100"], "b400": ids["BER-B400"],
                "reg_b100": _registration(app, "BER-B100"), "reg_b200": reg_b200,
                "reg_b400": _registration(app, "BER-B400"),
                "q1": repo.officer(mun2.id, "Q1").id, "closed": done.position,
                "licence": repo.licence_id("LOC-S2"),
                "requests": [r for r in requests if r["agency_id"] == mun2.id],
                "request_ids": [int(r["id"]) for r in requests if r["agency_id"] == mun2.id]}


def _reads() -> dict[str, tuple[Read, Callable[[Any], bool]]]:
    """name -> (the read, given MUN2's objects; whether its answer shows any of them)."""
    some = bool
    found = lambda result: result is not None  # noqa: E731
    iq = inspection_queries
    return {
        # the log's entries
        "event": (lambda r, w: r.event(w["reg_b100"]), found),
        "history(firearm)": (lambda r, w: r.history("firearm", w["b100"]), some),
        "firearm_history": (lambda r, w: r.firearm_history(w["b100"]), some),
        "firearm_history_page": (lambda r, w: r.firearm_history_page(w["b100"], 0, 10)[0], some),
        "history(officer)": (lambda r, w: r.history("officer", w["q1"]), some),
        "corrections_of": (lambda r, w: r.corrections_of([w["reg_b200"]]), some),
        "iter_events": (lambda r, w: [e for e in r.iter_events() if e.org_id == w["mun2"]],
                        some),
        "web subject_events(firearm)": (lambda r, w: web_queries.subject_events(
            r, "firearm", w["b100"])[0], some),
        "web subject_events(officer)": (lambda r, w: web_queries.subject_events(
            r, "officer", w["q1"])[0], some),
        "web officer_custody": (lambda r, w: web_queries.officer_custody(
            r, w["q1"], w["mun2"])[0], some),
        "web ammunition_movements": (lambda r, w: web_queries.ammunition_movements(
            r, w["mun2"])[0], some),
        "trace firearm_entries": (lambda r, w: trace_queries.firearm_entries(r, [w["b100"]]),
                                  some),
        "corrections entries": (lambda r, w: correction_queries.entries(r, w["request_ids"]),
                                some),
        "corrections decisions": (lambda r, w: correction_queries.decisions(
            r, w["requests"]), some),
        "corrections direct_corrections": (lambda r, w: correction_queries.direct_corrections(
            r, w["mun2"], "2000-01-01", "2100-01-01") + [
            e for e in r.corrections_of([w["reg_b200"]]).get(w["reg_b200"], [])], some),
        "revista entry_position": (lambda r, w: iq.entry_position(
            r, w["closed"], "inspection.opened"), found),
        # a revista's count
        "revista scans": (lambda r, w: iq.scans(r, w["closed"]), some),
        "revista scan_counts": (lambda r, w: iq.scan_counts(r, w["closed"]),
                                lambda result: result != (0, 0)),
        "revista counted_rounds": (lambda r, w: iq.counted_rounds(r, w["closed"]), some),
        "revista findings": (lambda r, w: iq.findings(r, w["closed"]), some),
        "revista findings_page": (lambda r, w: iq.findings_page(r, w["closed"])[0], some),
        "revista finding_counts": (lambda r, w: iq.finding_counts(r, w["closed"]), some),
        "revista findings_by_id": (lambda r, w: iq.findings_by_id(r, w["closed"], range(1, 9)),
                                   some),
        "revista findings_with_key": (lambda r, w: iq.findings_with_key(
            r, w["closed"], serial_key("BER-B201")), some),
        # a licence's covered agencies (another state's licence)
        "api licence_agencies": (lambda r, w: api_queries.licence_agencies(r, [w["licence"]]),
                                 some),
    }


def _answer(read: Read, repo: Repositories, w: dict[str, Any]) -> tuple[bool, Any]:
    try:
        return True, read(repo, w)
    except NotFound:
        return False, None


@pytest.mark.parametrize("insider", ["armero1", "jefe1"])
def test_an_insider_of_another_agency_reads_no_entry_count_or_licence_of_mun2(
        world, clock, insider):
    w = _world(world, clock)
    reads = _reads()
    with world.read(None) as uow:
        blind = []
        for name, (read, shows) in reads.items():
            ok, result = _answer(read, uow.repo, w)
            if not (ok and shows(result)):
                blind.append(name)
    assert blind == [], f"reads that find nothing of MUN2 even for the system: {blind}"
    with world.read(insider) as uow:
        leaks = {}
        for name, (read, shows) in reads.items():
            ok, result = _answer(read, uow.repo, w)
            if ok and shows(result):
                leaks[name] = result
    assert sorted(leaks) == [], f"{insider} reads MUN2's data through: {sorted(leaks)}"


def test_mun2_reads_its_own_entries_count_and_findings_through_the_same_reads(world, clock):
    """The bases narrow, they do not blind: MUN2's chief reads its weapon's history, its
    corrections and, the revista closed, its count and findings."""
    w = _world(world, clock)
    with world.read("jefe2") as uow:
        repo = uow.repo
        assert [e.type for e in repo.firearm_history(w["b100"])][:2] == [
            "firearm.registered", "custody.issued"]
        assert repo.event(w["reg_b100"]).type == "firearm.registered"
        assert repo.corrections_of([w["reg_b200"]])[w["reg_b200"]]
        assert correction_queries.entries(repo, w["request_ids"])
        assert [s["serial"] for s in inspection_queries.scans(repo, w["closed"])] == ["BER-B100"]
        assert inspection_queries.counted_rounds(repo, w["closed"]) == {
            ("ARM1", "9x19mm", "L-7"): 450}
        assert {f["serial"] for f in inspection_queries.findings(repo, w["closed"])} >= {
            "BER-B201"}
        assert inspection_queries.entry_position(repo, w["closed"], "inspection.opened") is None


def test_a_weapons_entries_follow_it_to_the_agency_that_received_it(world, clock):
    """MUN3 received BER-B400 from MUN2: its whole history is MUN3's to read now, what
    MUN2 recorded included (the chain of custody of a weapon it holds); MUN2 keeps what
    it recorded itself and reads nothing MUN3 recorded since."""
    w = _world(world, clock)
    with world.read(None) as uow:
        every = {e.position: e for e in uow.repo.firearm_history(w["b400"])}
    mun3_own = {p for p, e in every.items() if e.org_id != w["mun2"]}
    assert mun3_own, "MUN3 recorded the weapon's receipt"
    with world.read("armero3") as uow:
        assert {e.position for e in uow.repo.firearm_history(w["b400"])} == set(every)
        assert uow.repo.event(w["reg_b400"]).org_id == w["mun2"]
    with world.read("jefe2") as uow:
        assert {e.position for e in uow.repo.firearm_history(w["b400"])} == set(every) - mun3_own
    with world.read("jefe1") as uow:   # never MUN1's: nothing
        assert uow.repo.firearm_history(w["b400"]) == []


@pytest.mark.parametrize("staff", ["armero2", "jefe2"])
def test_the_inspected_agency_does_not_follow_the_count_while_it_runs(world, clock, staff):
    """DESIGN: an agency's own staff may not follow its count while the revista is open;
    the inspector does; once closed the count is the agency's to read."""
    w = _world(world, clock)
    running = do(world, "inspector", inspections.plan, "MUN2", clock.now.date(), sealed=True)
    rid = running.position
    do(world, "inspector", inspections.open_, rid)
    do(world, "inspector", inspections.scan, rid, "BER-B100", holder="Q1")
    do(world, "inspector", inspections.count_rounds, rid, "ARM1", "9x19mm", "L-7", 440)
    q = inspection_queries
    _python_and_sql_agree_on_the_count(world, rid)
    with world.read(staff) as uow:
        assert q.get(uow.repo, rid) is not None          # the agency knows it is open
        assert q.scans(uow.repo, rid) == []
        assert q.scans(uow.repo, rid, last=5) == []
        assert q.scan_counts(uow.repo, rid) == (0, 0)
        assert q.counted_rounds(uow.repo, rid) == {}
    with world.read("inspector") as uow:
        assert [s["serial"] for s in q.scans(uow.repo, rid)] == ["BER-B100"]
        assert q.scan_counts(uow.repo, rid) == (1, 1)
    do(world, "inspector", inspections.close, rid)
    _python_and_sql_agree_on_the_count(world, rid)
    with world.read(staff) as uow:
        assert [s["serial"] for s in q.scans(uow.repo, rid)] == ["BER-B100"]
        assert q.counted_rounds(uow.repo, rid) == {("ARM1", "9x19mm", "L-7"): 440}
    assert w["closed"] != rid


def _python_and_sql_agree_on_the_count(world, rid: int) -> None:  # type: ignore[no-untyped-def]
    """``domain.inspections.count_visible_to`` and ``scoped.scans`` are one rule: for each
    reader, the count is there in SQL exactly when the Python rule says it may be followed."""
    with world.read(None) as uow:
        revista = inspection_queries.get(uow.repo, rid)
    assert revista is not None
    for reader in ("armero1", "jefe1", "armero2", "jefe2", "armero3", "supervisor", "inspector",
                   "inspector_zm", "auditor"):
        with world.read(reader) as uow:
            follows = count_visible_to(uow.actor, revista)
            assert bool(inspection_queries.scans(uow.repo, rid)) == follows, reader
            assert bool(inspection_queries.counted_rounds(uow.repo, rid)) == follows, reader


def test_an_account_scoped_at_the_agency_learns_nothing_of_a_sealed_revista_from_the_log(
        world, clock):
    """An auditor whose scope is MUN2 itself (its internal comptroller) may read the
    inspection entries of MUN2 by kind, but a sealed revista planned there is hidden from
    the agency's own accounts until it opens (``scoped.inspections``), its entries too."""
    with world.work("admin") as uow:
        users.add_user(uow, "contralor2", PASSWORD, "auditor", "MUN2")
        uow.commit()
    planned = do(world, "inspector", inspections.plan, "MUN2", clock.now.date(), sealed=True)
    pid = planned.position
    q = inspection_queries
    with world.read("contralor2") as uow:
        repo = uow.repo
        with pytest.raises(NotFound):
            repo.event(pid)
        assert repo.history("inspection", pid) == []
        assert q.entry_position(repo, pid, "inspection.planned") is None
        assert [e for e in repo.iter_events(pid) if e.subject_type == "inspection"] == []
        # the ledger's export for a rehash: the entry's leaf hash, nothing of the entry
        [exported] = ledger_proofs.export_events(uow, pid, pid + 1)
        assert "leaf_hash" in exported and "event" not in exported and "leaf" not in exported
    with world.read("auditor") as uow:           # the national auditor sees it
        assert uow.repo.event(pid).type == "inspection.planned"
        [exported] = ledger_proofs.export_events(uow, pid, pid + 1)
        assert exported["event"]["type"] == "inspection.planned"
    do(world, "inspector", inspections.open_, pid)
    with world.read("contralor2") as uow:         # open: the agency is told
        assert uow.repo.event(pid).type == "inspection.planned"
        assert q.entry_position(uow.repo, pid, "inspection.opened") is not None


def test_the_surfaces_answer_mun1s_chief_as_for_nothing(world, clock, cli):
    """The same asks through the API, the web and the command line: not found."""
    from resguardo.web import create_site

    w = _world(world, clock)
    api = TestClient(create_app(world, auth_settings=AuthSettings(), webhooks=False))
    token = api.post("/api/v1/auth/token", json={"username": "jefe1", "password": PASSWORD})
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    for url in (f"/api/v1/firearms/{w['b100']}/history", f"/api/v1/events/{w['reg_b100']}",
                f"/api/v1/inspections/{w['closed']}/findings",
                f"/api/v1/licences/{w['licence']}"):
        answer = api.get(url, headers=auth)
        assert answer.status_code == 404, (url, answer.text)
        assert "BER-B" not in answer.text and "MUN3" not in answer.text
    site = TestClient(create_site(world), follow_redirects=True)
    page = site.get("/login")
    import re
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    site.post("/login", data={"csrf": csrf.group(1), "username": "jefe1",
                              "password": PASSWORD})
    for url in (f"/firearms/{w['b100']}", f"/officers/{w['q1']}",
                f"/inspections/{w['closed']}"):
        answer = site.get(url)
        assert answer.status_code == 404, url
        assert "BER-B100" not in answer.text
    shown = cli("--as", "jefe1", "firearm", "show", "BER-B100", "--json")
    assert shown.exit_code == 1 and "BER-B100" not in shown.stdout
