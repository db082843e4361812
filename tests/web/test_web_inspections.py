"""Inspection pages: plan, the agency's staff never see a sealed one, open,
blind scanning, close, findings, answers, acta."""

from __future__ import annotations

from datetime import date

import pytest

from resguardo.domain.errors import NotFound, ValidationFailed
from resguardo.services import custody, inspections

from world import do, look


def planned(app, sealed: bool = True) -> int:  # type: ignore[no-untyped-def]
    return do(app, "inspector", inspections.plan, "MUN1", date(2025, 3, 10),
              sealed=sealed).position


def test_a_sealed_inspection_is_invisible_to_the_agency_and_every_read_is_recorded(
        sqlite_world, signed_in):
    number = planned(sqlite_world)
    for user in ("armero1", "jefe1"):
        staff = signed_in(user)
        assert "No hay revistas que mostrar." in staff.get("/inspections").text
        assert staff.get(f"/inspections/{number}").status_code == 404
        assert "Revista" not in staff.get("/").text.split("<main")[1].split("Alertas abiertas")[0]
    inspector = signed_in("inspector")
    page = inspector.get(f"/inspections/{number}")
    assert page.status_code == 200 and "Sellada" in page.text
    reads = look(sqlite_world, None, lambda uow: [
        e for e in uow.repo.history("inspection", number) if e.type == "access.inspection_read"])
    assert reads and {e.actor for e in reads} == {"inspector"}


def test_planning_refuses_a_date_in_the_past(signed_in):
    inspector = signed_in("inspector")
    refused = inspector.post("/inspections", {"agency": "MUN1", "planned_on": "2025-01-01"})
    assert refused.status_code == 422
    assert "La fecha programada ya pasó." in refused.text


def test_the_plan_form_offers_the_agencys_today_in_its_evening(sqlite_world, signed_in, clock):
    """17:50 on 6 December in Hermosillo is 00:50 UTC on the 7th: the form's date picker
    starts on the 6th and the 6th is accepted for Hermosillo's agency, not for Mexico
    City's, where the 6th is over once it is past midnight there."""
    from datetime import UTC, datetime

    from resguardo.services import registry
    clock.now = datetime(2026, 12, 7, 0, 50, tzinfo=UTC)
    do(sqlite_world, "admin", registry.set_place, "MUN2", time_zone="America/Hermosillo")
    inspector = signed_in("inspector")
    assert 'min="2026-12-06"' in inspector.get("/inspections").text
    done = inspector.post("/inspections", {"agency": "MUN2", "planned_on": "2026-12-06"})
    assert done.status_code == 200 and "La fecha programada ya pasó." not in done.text
    clock.now = datetime(2026, 12, 7, 6, 30, tzinfo=UTC)  # 23:30 in Hermosillo, 00:30 in CDMX
    refused = signed_in("inspector").post("/inspections", {"agency": "MUN1",
                                                           "planned_on": "2026-12-06"})
    assert refused.status_code == 422 and "La fecha programada ya pasó." in refused.text
    assert [p["agency"] for p in look(sqlite_world, "inspector", inspections.list_)] == ["MUN2"]


def test_planning_refuses_a_location_of_another_agency_instead_of_counting_all(sqlite_world):
    day = date(2025, 3, 10)
    for given in (["MUN2:ARM1"], ["ARM2", "mun2:ARM1"]):
        with pytest.raises(ValidationFailed, match="belongs to another agency than MUN1") as no:
            do(sqlite_world, "inspector", inspections.plan, "MUN1", day, locations=given)
        assert no.value.details["field"] == "locations"
    # a bare code that only another agency has is refused the same way
    with pytest.raises(ValidationFailed, match="location ARM2 belongs to another agency"):
        do(sqlite_world, "inspector", inspections.plan, "MUN2", day, locations=["ARM2"])
    with pytest.raises(NotFound):
        do(sqlite_world, "inspector", inspections.plan, "MUN1", day, locations=["BOV-9"])
    number = do(sqlite_world, "inspector", inspections.plan, "MUN1", day,
                locations=["MUN1:ARM2"]).position
    assert look(sqlite_world, "inspector",
                lambda uow: inspections.show(uow, number, findings=False)["locations"]) == ["ARM2"]


def test_the_plan_form_refuses_a_ticked_location_of_another_agency(sqlite_world, signed_in):
    inspector = signed_in("inspector")
    form = inspector.get("/inspections").text
    assert 'data-agency="MUN2"' in form and 'value="MUN2:ARM1"' in form
    refused = inspector.post("/inspections", {"agency": "MUN1", "planned_on": "2025-03-10",
                                              "locations": ["MUN1:ARM2", "MUN2:ARM1"]})
    assert refused.status_code == 422
    assert ("La ubicación MUN2:ARM1 no es de MUN1: una revista cuenta las ubicaciones de la "
            "corporación que revisa.") in refused.text
    assert 'value="MUN1:ARM2" checked' in refused.text  # what was ticked stays ticked
    assert look(sqlite_world, "inspector", lambda uow: inspections.list_(uow)) == []
    done = inspector.post("/inspections", {"agency": "MUN1", "planned_on": "2025-03-10",
                                           "locations": ["MUN1:ARM2"]})
    assert done.status_code == 200 and "ARM2" in done.text
    planned_ = look(sqlite_world, "inspector", lambda uow: inspections.list_(uow))
    assert [p["locations"] for p in planned_] == [["ARM2"]]


def test_open_scan_close_answer_and_download_the_acta(sqlite_world, signed_in):
    do(sqlite_world, "armero1", custody.issue, "GLK-A500", "P1")
    number = planned(sqlite_world, sealed=False)
    inspector = signed_in("inspector")
    refused = inspector.post(f"/inspections/{number}/open", {"people": "Cap. J. Ortega"},
                             page=f"/inspections/{number}")
    assert refused.status_code == 422 and "nombre | cargo | identificación" in refused.text
    opened = inspector.post(f"/inspections/{number}/open",
                            {"people": "Cap. J. Ortega | Inspector de armamento | SEDENA A-1"},
                            page=f"/inspections/{number}")
    assert opened.url.path == f"/inspections/{number}/scan"
    assert "Conteo a ciegas" in opened.text and "GLK-A200" not in opened.text
    armorer = signed_in("armero1")
    desk = armorer.post("/desk", {"badge": "P1", "serial": "GLK-A100"})
    assert "Hay una revista abierta en esta corporación" in desk.text
    for serial in ("GLK-A100", "glk a200", "NOT-ON-BOOKS"):
        page = inspector.post(f"/inspections/{number}/scan",
                              {"serial": serial, "location": "ARM1"},
                              page=f"/inspections/{number}/scan")
        assert page.status_code == 200
    assert "Registrada: NOT-ON-BOOKS" in page.text
    assert "GLK-A300" not in page.text  # blind: what is expected is never shown
    closed = inspector.post(f"/inspections/{number}/close", page=f"/inspections/{number}")
    assert "Revista cerrada" in closed.text
    assert "Faltante" in closed.text and "No registrada" in closed.text
    # the counts' labels agree with the counts (several missing, one not registered, none foreign)
    assert ">Armas faltantes<" in closed.text and ">Arma no registrada<" in closed.text
    assert ">Armas registradas a otra corporación<" in closed.text
    acta = inspector.get(f"/inspections/{number}/acta.pdf")
    assert acta.headers["content-type"] == "application/pdf" and acta.content[:5] == b"%PDF-"
    chief = signed_in("jefe1")
    record = chief.get(f"/inspections/{number}").text
    finding = record.split('name="finding" value="')[1].split('"')[0]
    answered = chief.post(f"/inspections/{number}/answer",
                          {"finding": finding, "resolution": "found",
                           "reason": "Estaba en el taller de la base norte",
                           "evidence": "Orden de taller 4411"},
                          page=f"/inspections/{number}")
    assert "Respuesta registrada: queda en espera de la revisión del inspector." in answered.text
    assert "Localizada" in answered.text and "En espera de revisión" in answered.text
    # the agency cannot close it; the inspector accepts it
    refused = chief.post(f"/inspections/{number}/accept", {"finding": finding},
                         page=f"/inspections/{number}")
    assert refused.status_code in (403, 422) and "Revisión registrada." not in refused.text
    accepted = inspector.post(f"/inspections/{number}/accept", {"finding": finding},
                              page=f"/inspections/{number}?state=answered")
    assert "Revisión registrada." in accepted.text
    pending = inspector.get(f"/inspections/{number}?state=closed").text
    assert f'name="finding" value="{finding}"' not in pending and "Orden de taller 4411" in pending


def test_the_agency_sees_the_revista_open_and_frozen_and_nothing_of_the_count(
        sqlite_world, signed_in):
    number = planned(sqlite_world, sealed=False)
    do(sqlite_world, "inspector", inspections.open_, number)
    do(sqlite_world, "inspector", inspections.scan, number, "GLK-A100", location="ARM1")
    for user in ("armero1", "jefe1"):
        staff = signed_in(user)
        page = staff.get(f"/inspections/{number}")
        assert page.status_code == 200 and "Revista en curso" in page.text
        assert "Conteo hasta ahora" not in page.text and "GLK-A100" not in page.text
        assert "Lecturas" not in page.text
        assert staff.get(f"/inspections/{number}/scan").status_code == 404
    # the banner is on the desk before anyone scans
    assert "Hay una revista abierta en esta corporación." in signed_in("armero1").get("/desk").text
    # an officer of MUN2 is not frozen: no banner at its desk
    assert "Hay una revista abierta" not in signed_in("armero2").get("/desk").text


def test_a_closed_revista_is_one_alert_that_leads_to_its_pending_findings(sqlite_world,
                                                                          signed_in, clock):
    number = planned(sqlite_world, sealed=False)
    do(sqlite_world, "inspector", inspections.open_, number)
    do(sqlite_world, "inspector", inspections.close, number)
    do(sqlite_world, "armero1", custody.report_missing, "GLK-A500", stolen=True,
       occurred_on=clock.now.date(), place="Patrulla 4", on_duty=True,
       complaint_number="FGE/9/2025", complaint_authority="FGE Jalisco")
    clock.advance(days=2)                              # the loss is now unnotified too
    chief = signed_in("jefe1")
    page = chief.get("/alerts").text
    assert page.count(f'href="/inspections/{number}?state=pending#findings"') == 1
    assert f"Revista {number}" in page
    only = chief.get("/alerts?kind=open_finding").text
    assert f"Revista {number}" in only and "GLK-A500" not in only.split("<main")[1]
    assert "GLK-A500" in chief.get("/alerts?kind=loss_unnotified").text


def test_the_close_form_deadline_is_a_day_that_ends_at_the_agencys_midnight(
        sqlite_world, signed_in, clock):
    """The deadline to present weapons on duty is typed as a day and ends at midnight where
    the inspected agency is (Hermosillo: 06:59:59 UTC on the 9th for the 8th), as the CLI
    and the API read it; not the start of that day in the deployment's display zone."""
    from datetime import UTC, datetime

    from resguardo.services import registry
    clock.now = datetime(2026, 12, 6, 17, 0, tzinfo=UTC)
    do(sqlite_world, "admin", registry.set_place, "MUN2", time_zone="America/Hermosillo")
    do(sqlite_world, "armero2", custody.issue, "BER-B100", "Q1")
    number = do(sqlite_world, "inspector", inspections.plan, "MUN2", date(2026, 12, 6)).position
    do(sqlite_world, "inspector", inspections.open_, number)
    inspector = signed_in("inspector")
    form = inspector.get(f"/inspections/{number}").text
    assert '<input type="date" name="present_by">' in form
    assert "hasta el fin de ese día en la zona horaria de la corporación" in form
    closed = inspector.post(f"/inspections/{number}/close", {"present_by": "2026-12-08"},
                            page=f"/inspections/{number}")
    assert closed.status_code == 200
    shown = look(sqlite_world, "inspector", inspections.show, number)
    assert shown["present_by"] == "2026-12-09T06:59:59Z"
    found = next(f for f in shown["findings"] if f.get("serial") == "BER-B100")
    assert found["kind"] == "to_present"


def test_a_revista_planned_for_today_is_overdue_only_when_the_agencys_day_is_over(
        sqlite_world, signed_in, clock):
    from datetime import UTC, datetime

    from resguardo.services import registry
    clock.now = datetime(2026, 12, 6, 17, 0, tzinfo=UTC)
    do(sqlite_world, "admin", registry.set_place, "MUN2", time_zone="America/Hermosillo")
    do(sqlite_world, "inspector", inspections.plan, "MUN2", date(2026, 12, 6), sealed=False)
    clock.now = datetime(2026, 12, 7, 6, 30, tzinfo=UTC)  # 23:30 on the 6th in Hermosillo
    assert 'st-lost">Atrasada' not in signed_in("inspector").get("/").text
    clock.now = datetime(2026, 12, 7, 7, 30, tzinfo=UTC)  # 00:30 on the 7th there
    assert 'st-lost">Atrasada' in signed_in("inspector").get("/").text


def test_the_officer_page_shows_a_credential_valid_through_the_agencys_evening(
        sqlite_world, signed_in, clock):
    """23:30 on 6 December in Tijuana (07:30 UTC on the 7th): a credential that ends on the
    6th is still "vigente" on the officer's page; after midnight there it "venció"."""
    from datetime import UTC, datetime

    from resguardo.domain.registry import OfficerInput
    from resguardo.services import registry
    clock.now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    do(sqlite_world, "admin", registry.set_place, "MUN1", time_zone="America/Tijuana")
    officer_id = do(sqlite_world, "jefe1", registry.add_officer, "MUN1", OfficerInput(
        "P5", "Marta León", credential_expiry=date(2026, 12, 6),
        qualification_expiry=date(2030, 1, 1))).position
    clock.now = datetime(2026, 12, 7, 7, 30, tzinfo=UTC)
    page = signed_in("jefe1").get(f"/officers/{officer_id}").text
    assert "vigente hasta el 6 dic 2026" in page and "venció el 6 dic 2026" not in page
    clock.now = datetime(2026, 12, 7, 8, 5, tzinfo=UTC)
    assert "venció el 6 dic 2026" in signed_in("jefe1").get(f"/officers/{officer_id}").text
