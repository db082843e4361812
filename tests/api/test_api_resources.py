"""Resources over HTTP: lists with filters and pages, details, and the actions roles allow."""

from __future__ import annotations

from datetime import date

import pytest

from resguardo.services import inspections


def test_firearms_are_listed_filtered_paged_and_ordered_within_scope(api, firearm_id):
    everything = api.get("supervisor", "/firearms").json()
    assert everything["total"] == 6  # MUN1 and MUN2; MUN3 lies in another state
    assert {f["agency"] for f in everything["items"]} == {"MUN1", "MUN2"}
    page = api.get("supervisor", "/firearms?limit=2&offset=2&order=-serial").json()
    assert page["total"] == 6 and page["limit"] == 2 and len(page["items"]) == 2
    serials = [f["serial"] for f in api.get("supervisor", "/firearms?order=-serial").json()["items"]]
    assert [f["serial"] for f in page["items"]] == serials[2:4]
    api.post("armero1", f"/firearms/{firearm_id('GLK-A100')}/issue", {"badge": "P2"})
    p2 = api.get("armero1", "/officers?q=luis").json()["items"][0]
    issued = api.get("armero1", f"/firearms?status=issued&custodian={p2['id']}").json()
    assert [f["serial"] for f in issued["items"]] == ["GLK-A100"]
    assert issued["items"][0]["custodian"] == "P2" and issued["items"][0]["location"] is None
    assert api.get("armero1", "/firearms?q=a3").json()["items"][0]["serial"] == "GLK-A300"
    assert api.get("armero1", "/firearms?make=glock&kind=pistol&calibre=9x19mm"
                   ).json()["total"] == 5
    assert api.get("supervisor", "/firearms?agency=MUN2").json()["total"] == 1
    r = api.get("armero1", "/firearms?agency=MUN2")
    assert r.status_code == 404
    r = api.get("armero1", "/firearms?status=melted")
    assert r.status_code == 422 and r.json()["error"]["details"]["errors"][0]["field"] == "status"


def test_a_firearm_is_registered_and_its_history_shows_corrections(api):
    body = {"location": "ARM1", "serial": "GLK-Z900", "make": "Glock", "model": "19",
            "calibre": "9x19mm", "kind": "pistol"}
    r = api.post("armero1", "/firearms", body)
    assert r.status_code == 201
    created = r.json()
    assert created["agency"] == "MUN1" and created["status"] == "in_storage"
    again = api.post("armero2", "/firearms", {**body, "agency": "MUN2"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "duplicate_serial"
    fix = api.post("armero1", f"/events/{created['id']}/corrections",
                   {"changes": {"model": "17"}, "reason": "error de captura"})
    assert fix.status_code == 201 and fix.json()["corrects"] == created["id"]
    history = api.get("armero1", f"/firearms/{created['id']}/history").json()
    entry = history["history"][0]
    assert entry["event"] == "firearm.registered" and entry["model"] == "17"
    assert entry["as_recorded"] == {"model": "19"}
    assert entry["corrections"][0]["reason"] == "error de captura"
    recorded = api.get("armero1", f"/firearms/{created['id']}/history?view=recorded").json()
    assert recorded["history"][0]["model"] == "19"


def test_a_transfer_is_requested_approved_by_the_chief_and_received_by_the_other_agency(
        api, firearm_id):
    fid = firearm_id("GLK-A200")
    assert api.post("armero1", f"/firearms/{fid}/transfer",
                    {"to_agency": "MUN2", "reason": "reasignación"}).status_code == 201
    pending = api.get("jefe2", "/requests").json()["items"]  # the receiving chief sees it too
    assert [(p["kind"], p["serial"], p["to_agency"]) for p in pending] == [
        ("transfer", "GLK-A200", "MUN2")]
    refused = api.post("armero1", f"/firearms/{fid}/transfer/approve")
    assert refused.status_code == 403
    assert api.post("jefe1", f"/firearms/{fid}/transfer/approve").status_code == 201
    early = api.post("armero1", f"/firearms/{fid}/transfer/receive", {"location": "ARM1"})
    assert early.status_code == 404  # the sender cannot book it in
    got = api.post("armero2", f"/firearms/{fid}/transfer/receive", {"location": "ARM1"})
    assert got.status_code == 201 and got.json()["type"] == "firearm.transfer_received"
    assert api.get("armero2", f"/firearms/{fid}").json()["agency"] == "MUN2"
    assert api.get("armero1", f"/firearms/{fid}").status_code == 404
    assert api.get("jefe1", "/requests?state=approved").json()["items"][0]["decided_by"] == "jefe1"


def test_a_decommission_needs_a_chiefs_approval(api, firearm_id):
    fid = firearm_id("GLK-A300")
    assert api.post("armero1", f"/firearms/{fid}/decommission",
                    {"reason": "cañón fracturado"}).status_code == 201
    twice = api.post("armero1", f"/firearms/{fid}/decommission", {"reason": "otra vez"})
    assert twice.status_code == 422
    assert api.post("armero1", f"/firearms/{fid}/decommission/approve").status_code == 403
    assert api.post("jefe1", f"/firearms/{fid}/decommission/approve").status_code == 201
    assert api.get("jefe1", f"/firearms/{fid}").json()["status"] == "decommissioned"
    r = api.post("armero1", f"/firearms/{fid}/issue", {"badge": "P1"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_transition"


def test_a_theft_raises_an_alert_until_notified_and_the_weapon_can_be_recovered(
        api, firearm_id, clock):
    fid = firearm_id("GLK-A400")
    r = api.post("armero1", f"/firearms/{fid}/report-loss", {
        "stolen": True, "occurred_on": "2025-03-02", "place": "Col. Centro", "on_duty": True,
        "complaint_number": "FED/JAL/1/2025", "complaint_authority": "FGE Jalisco"})
    assert r.status_code == 201 and r.json()["type"] == "firearm.reported_stolen"
    assert api.get("jefe1", "/loss-reports?open=true").json()["items"][0]["serial"] == "GLK-A400"
    clock.advance(hours=25)
    api.sign_in_again()
    alerts = api.get("jefe1", "/alerts").json()["items"]
    assert [a["kind"] for a in alerts] == ["loss_unnotified"]
    assert api.get("jefe2", "/alerts").json()["total"] == 0
    key = alerts[0]["key"]
    assert api.post("armero1", f"/alerts/{key}/acknowledge", {"note": "x"}).status_code == 403
    ack = api.post("jefe1", f"/alerts/{key}/acknowledge", {"note": "Oficio enviado"})
    assert ack.status_code == 201
    assert api.get("jefe1", "/alerts").json()["total"] == 0
    assert api.get("jefe1", "/alerts?include_acknowledged=true").json()["items"][0][
        "acknowledged"] is True
    assert api.post("armero1", f"/firearms/{fid}/notification",
                    {"reference": "OF-881"}).status_code == 201
    back = api.post("armero1", f"/firearms/{fid}/recover",
                    {"held_by": "FGE Jalisco", "circumstances": "Asegurada en un cateo"})
    assert back.status_code == 201
    assert api.get("armero1", f"/firearms/{fid}").json()["status"] == "held_as_evidence"
    refused = api.post("armero1", f"/firearms/{fid}/issue", {"badge": "P1"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "invalid_transition"
    assert api.post("armero1", f"/firearms/{fid}/release", {
        "location": "ARM1", "reference": "Oficio FGE/LIB/1/2025"}).status_code == 403
    negligence = api.post("jefe1", f"/firearms/{fid}/negligence",
                          {"negligent": False, "reason": "Robo con violencia"})
    assert negligence.status_code == 201
    released = api.post("jefe1", f"/firearms/{fid}/release",
                        {"location": "ARM1", "reference": "Oficio FGE/LIB/1/2025"})
    assert released.status_code == 201 and released.json()["type"] == "firearm.released"
    assert api.get("armero1", f"/firearms/{fid}").json()["status"] == "in_storage"


def test_a_loss_without_its_complaint_authority_is_refused_naming_the_field(api, firearm_id):
    r = api.post("armero1", f"/firearms/{firearm_id('GLK-A400')}/report-loss", {
        "stolen": False, "occurred_on": "2025-03-02", "place": "Col. Centro", "on_duty": True,
        "complaint_number": "FED/JAL/1/2025"})
    assert r.status_code == 422
    assert "complaint_authority" in r.text


def test_officers_are_managed_by_the_chief_and_overrides_let_one_issue_through(api, firearm_id):
    new = api.post("jefe1", "/officers", {"badge": "p9", "name": "Iris Vega",
                                          "credential_expiry": "2030-01-01",
                                          "qualification_expiry": "2030-01-01"})
    assert new.status_code == 201 and new.json()["badge"] == "P9"
    officer = new.json()["id"]
    assert api.post("armero1", "/officers", {"badge": "P10", "name": "X"}).status_code == 403
    assert api.post("jefe1", f"/officers/{officer}/suspend",
                    {"reason": "investigación"}).status_code == 201
    assert api.get("jefe1", "/officers?status=suspended").json()["items"][0]["badge"] == "P9"
    fid = firearm_id("GLK-A500")
    refused = api.post("armero1", f"/firearms/{fid}/issue", {"badge": "P9"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == \
        "officer_not_eligible"
    assert api.post("jefe1", f"/officers/{officer}/reinstate",
                    {"reason": "resuelto"}).status_code == 201
    assert api.post("armero1", f"/firearms/{fid}/issue", {"badge": "P9"}).status_code == 201
    assert [f["serial"] for f in api.get("jefe1", f"/officers/{officer}/firearms").json()] == [
        "GLK-A500"]
    held = api.post("jefe1", f"/officers/{officer}/separate", {"reason": "baja"})
    assert held.status_code == 409 and held.json()["error"]["code"] == "officer_holds_weapons"


def test_a_renewal_keeps_the_folio_and_refuses_a_past_expiry_naming_the_field(api):
    new = api.post("jefe1", "/officers", {"badge": "P9", "name": "Iris Vega",
                                          "credential_folio": "CRED-9",
                                          "credential_expiry": "2026-01-01"})
    officer = new.json()["id"]
    past = api.post("jefe1", f"/officers/{officer}/renew", {"credential_expiry": "2025-01-01"})
    assert past.status_code == 422
    assert past.json()["error"]["details"]["field"] == "credential_expiry"
    done = api.post("jefe1", f"/officers/{officer}/renew", {"credential_expiry": "2031-01-01"})
    assert done.status_code == 201
    shown = api.get("jefe1", f"/officers/{officer}").json()
    assert (shown["credential_folio"], shown["credential_expiry"]) == ("CRED-9", "2031-01-01")


def test_ammunition_moves_in_and_out_with_justification(api):
    base = {"location": "ARM1", "calibre": "9x19mm", "lot": "L-1"}
    assert api.post("armero1", "/ammunition/receive", {**base, "quantity": 500}
                    ).status_code == 201
    assert api.post("armero1", "/ammunition/issue", {**base, "badge": "P1", "quantity": 30}
                    ).status_code == 201
    unexplained = api.post("armero1", "/ammunition/return",
                           {**base, "badge": "P1", "returned": 27, "consumed": 3})
    assert unexplained.status_code == 422
    assert api.post("armero1", "/ammunition/return",
                    {**base, "badge": "P1", "returned": 27, "consumed": 3,
                     "justification": "training"}).status_code == 201
    balance = api.get("jefe1", "/ammunition").json()
    assert balance["stock"] == [{"agency": "MUN1", "location": "ARM1", "calibre": "9x19mm",
                                 "lot": "L-1", "quantity": 497}]
    too_many = api.post("armero1", "/ammunition/issue", {**base, "badge": "P1",
                                                         "quantity": 10_000})
    assert too_many.json()["error"]["code"] == "insufficient_ammunition"
    assert api.get("armero2", "/ammunition").json()["stock"] == []


def test_the_registry_tree_locations_and_licences(api):
    orgs = api.get("jefe1", "/organizations").json()
    assert [o["code"] for o in orgs["items"]] == ["MUN1"]
    tree = api.get("supervisor", "/organizations?kind=agency").json()
    assert {o["code"] for o in tree["items"]} == {"MUN1", "MUN2"}
    assert api.get("supervisor", "/organizations/MUN1").json()["parent"] == "SSP"
    assert api.get("supervisor", "/organizations/MUN3").status_code == 404
    made = api.post("admin", "/organizations", {"code": "MUN4", "name": "Policía 4",
                                                "kind": "agency", "parent": "SSP2"})
    assert made.status_code == 201 and made.json()["parent"] == "SSP2"
    loc = api.post("jefe1", "/locations", {"code": "VAULT", "name": "Bóveda", "kind": "vault"})
    assert loc.status_code == 201 and loc.json()["agency"] == "MUN1"
    assert api.get("armero1", "/locations?kind=vault").json()["items"][0]["code"] == "VAULT"
    lic = api.post("supervisor", "/licences", {"number": "LOC-7", "holder": "SSP",
                                               "agencies": ["MUN1", "MUN2"],
                                               "valid_from": "2025-01-01",
                                               "valid_to": "2027-12-31"})
    assert lic.status_code == 201 and lic.json()["agencies"] == ["MUN1", "MUN2"]
    # held by SSP, covering MUN1: MUN1's chief sees it (its weapons go on it); MUN3's not
    assert api.get("jefe1", f"/licences/{lic.json()['id']}").json()["number"] == "LOC-7"
    assert api.get("armero3", f"/licences/{lic.json()['id']}").status_code == 404
    assert api.get("supervisor", "/licences").json()["total"] == 1


def test_users_are_created_by_an_admin_and_change_their_own_password(api):
    r = api.post("admin", "/users", {"username": "armero9", "password": "a-long-secret-9",
                                     "role": "armorer", "scope": "MUN1"})
    assert r.status_code == 201 and r.json()["scope"] == "MUN1"
    bad = api.post("admin", "/users", {"username": "jefe9", "password": "a-long-secret-9",
                                       "role": "chief", "scope": "SSP"})
    assert bad.status_code == 422
    assert api.get("jefe1", "/users").status_code == 403
    assert {u["username"] for u in api.get("admin", "/users?role=armorer").json()["items"]} == {
        "armero1", "armero2", "armero3", "armero9"}
    other = api.post("jefe1", "/users/armero1/password", {"password": "a-new-long-secret"})
    assert other.status_code == 403
    own = api.post("jefe1", "/users/jefe1/password", {"password": "a-new-long-secret"})
    assert own.status_code == 200
    signed = api.client.post("/api/v1/auth/token", json={"username": "jefe1",
                                                         "password": "a-new-long-secret"})
    assert signed.status_code == 200


def test_a_sealed_inspection_is_hidden_from_the_agency_and_every_read_is_recorded(api):
    with api.app.work("inspector") as uow:
        sealed = inspections.plan(uow, "MUN1", date(2025, 3, 4), sealed=True).position
        uow.commit()
    assert api.get("jefe1", f"/inspections/{sealed}").status_code == 404
    assert api.get("jefe1", "/inspections").json()["total"] == 0
    seen = api.get("inspector", f"/inspections/{sealed}")
    assert seen.status_code == 200 and seen.json()["sealed"] is True
    with api.app.read(None) as uow:
        reads = [e for e in uow.repo.iter_events() if e.type == "access.inspection_read"]
    assert [e.actor for e in reads] == ["inspector"]
    assert api.post("inspector", f"/inspections/{sealed}/open", {}).status_code == 201
    assert api.get("jefe1", f"/inspections/{sealed}").json()["state"] == "open"
    scan = api.post("inspector", f"/inspections/{sealed}/scans", {"serial": "GLK-A100"})
    assert scan.status_code == 201 and scan.json()["weapons_seen"] == 1
    closed = api.post("inspector", f"/inspections/{sealed}/close", {"lang": "en"})
    assert closed.status_code == 200 and closed.json()["summary"]["missing"] == 4
    acta = api.get("jefe1", f"/inspections/{sealed}/acta")
    assert acta.headers["content-type"] == "application/pdf"
    assert acta.headers["X-Acta-SHA256"] == closed.json()["acta_sha256"]


def test_a_trace_finds_a_damaged_serial_within_scope_and_is_recorded(api):
    pytest.importorskip("resguardo.services.trace")
    r = api.post("investigador", "/trace", {"serial": "GLK-A1?0", "reason": "FED/77"})
    assert r.status_code == 200, r.text
    assert r.json()["candidates"][0]["serial"] == "GLK-A100"
    assert r.json()["candidates"][0]["agency"] == "MUN1"
    elsewhere = api.post("investigador2", "/trace", {"serial": "GLK-A100"}).json()
    assert all(c["agency"] == "MUN3" for c in elsewhere["candidates"])
    assert api.post("armero1", "/trace", {"serial": "GLK-A100"}).status_code == 403
    log = api.get("investigador", "/trace/log").json()
    assert log["total"] == 1 and log["items"][0]["query"] == "GLK-A1?0"


def test_a_weapon_s_history_comes_a_page_at_a_time_counted_from_the_newest(api, firearm_id):
    fid = firearm_id("GLK-A100")
    for _ in range(3):
        assert api.post("armero1", f"/firearms/{fid}/issue", {"badge": "P2"}).status_code == 201
        assert api.post("armero1", f"/firearms/{fid}/return",
                        {"location": "ARM1"}).status_code == 201
    whole = api.get("investigador", f"/firearms/{fid}/history").json()
    assert len(whole["history"]) == 7 and whole["older"] is False
    newest = api.get("investigador", f"/firearms/{fid}/history?newest=4").json()
    assert newest["history"] == whole["history"][-4:] and newest["older"] is True
    back = api.get("investigador", f"/firearms/{fid}/history?newest=4&skip=4").json()
    assert back["history"] == whole["history"][:3] and back["older"] is False
    assert api.get("investigador", f"/firearms/{fid}/history?newest=0").status_code == 422
    assert api.get("investigador2", f"/firearms/{fid}/history?newest=4").status_code == 404
