"""An officer's page and the shift desk in a real Chromium, as a chief and an
armorer use them: a renewal that changes one date keeps the rest of the record;
a weapon comes back without a PIN; a chief lifts a PIN lock; a revista is
planned with its own agency's locations only."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect
from test_web_browser import new_page, sign_in
from web_support import set_pin

from resguardo.services import custody, inspections, pins, registry

from world import do, look

pytestmark = pytest.mark.browser


def _officer(app, badge):  # type: ignore[no-untyped-def]
    return look(app, None, lambda uow: uow.repo.officer(uow.repo.org("MUN1").id, badge))


def _last_entry(app, officer_id):  # type: ignore[no-untyped-def]
    def read(uow):  # type: ignore[no-untyped-def]
        return [e for e in uow.repo.iter_events(0)
                if e.subject_type == "officer" and e.subject_id == officer_id][-1]
    return look(app, None, read)


def test_a_chief_renews_a_credential_with_only_a_new_date_and_the_folio_is_kept(
        chromium, live, sqlite_world):
    do(sqlite_world, "jefe1", registry.renew_officer, "MUN1", "P1", credential_folio="CRED-501")
    officer = _officer(sqlite_world, "P1")
    context, page = new_page(chromium)
    sign_in(page, live, "jefe1", f"/officers/{officer.id}")
    page.get_by_text("Renovar credencial o evaluación").click()
    folio = page.get_by_label("Folio de la credencial de portación")
    expect(folio).to_have_value("CRED-501")  # the form opens with what is recorded
    expect(page.get_by_label("Credencial vigente hasta")).to_have_value("2030-01-01")
    # a date in the past is questioned, naming the field, and nothing is recorded
    page.get_by_label("Credencial vigente hasta").fill("2024-12-31")
    page.get_by_role("button", name="Guardar", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text(
        "La nueva vigencia de la credencial ya pasó: indique una fecha a partir de hoy.")
    assert _officer(sqlite_world, "P1").credential_expiry == date(2030, 1, 1)
    # only the new date: only the date is sent and recorded, the folio stays
    page.get_by_label("Credencial vigente hasta").fill("2031-06-30")
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/renew")) as sent:
        page.get_by_role("button", name="Guardar", exact=True).click()
    page.wait_for_url(f"{live.url}/officers/{officer.id}*")
    body = sent.value.post_data or ""
    assert "credential_expiry=2031-06-30" in body and "credential_folio" not in body
    renewed = _officer(sqlite_world, "P1")
    assert (renewed.credential_folio, renewed.credential_expiry) == ("CRED-501", date(2031, 6, 30))
    assert _last_entry(sqlite_world, officer.id).payload == {
        "officer_id": officer.id, "credential_expiry": "2031-06-30"}
    assert not page.errors
    context.close()


def test_the_armorer_takes_back_a_suspended_officers_weapon_without_a_pin(chromium, live,
                                                                         sqlite_world):
    do(sqlite_world, "armero1", custody.issue, "GLK-A300", "P3")  # P3 has no PIN
    do(sqlite_world, "jefe1", registry.suspend_officer, "MUN1", "P3", "asuntos internos")
    context, page = new_page(chromium)
    sign_in(page, live, "armero1", "/desk")
    page.keyboard.type("P3")
    page.keyboard.press("Enter")
    page.get_by_text("El elemento sí puede devolver lo que tiene.").wait_for()
    page.keyboard.type("GLK-A300")
    page.keyboard.press("Enter")
    page.get_by_text("Recibir GLK-A300").wait_for()
    expect(page.locator("input[name=pin]")).to_have_count(0)
    expect(page.get_by_role("button", name="Confirmar devolución")).to_be_focused()
    page.keyboard.press("Enter")
    page.get_by_text("Devuelta a la armería.").wait_for()
    weapon = look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A300"))
    assert weapon.status.value == "in_storage"
    back = look(sqlite_world, None, lambda uow: [
        e for e in uow.repo.history("firearm", weapon.id) if e.type == "custody.returned"])
    assert back[-1].payload["received_by"] == "armorer"
    assert not page.errors
    context.close()


def test_a_chief_lifts_a_pin_lock_from_the_officers_page(chromium, live, sqlite_world):
    set_pin(sqlite_world, "MUN1", "P1", "4821")
    officer = _officer(sqlite_world, "P1")
    with sqlite_world.work("armero1") as uow:  # five wrong PINs, as the desk counts them
        for _ in range(pins.MAX_FAILURES):
            pins.count_failure(uow, officer.id, officer.agency_id)
        uow.commit()
    context, page = new_page(chromium)
    sign_in(page, live, "jefe1", f"/officers/{officer.id}")
    expect(page.locator("#pin-locked")).to_contain_text("Bloqueado por demasiados NIP erróneos")
    page.get_by_label("Motivo por escrito").first.fill("Identidad comprobada en persona")
    page.get_by_role("button", name="Desbloquear", exact=True).click()
    page.get_by_text("NIP desbloqueado.").wait_for()
    expect(page.locator("#pin-locked")).to_have_count(0)
    assert look(sqlite_world, None, lambda uow: pins.locked_until(uow, officer.id)) is None
    assert _last_entry(sqlite_world, officer.id).type == "auth.pin_unlocked"
    assert not page.errors
    context.close()


def test_planning_a_revista_offers_only_the_chosen_agencys_locations(chromium, live,
                                                                      sqlite_world):
    context, page = new_page(chromium)
    sign_in(page, live, "inspector", "/inspections")
    boxes = page.locator("[data-agency-locations] label.check")
    agency = page.locator("select[name=agency]")
    agency.select_option("MUN1")
    expect(boxes.filter(visible=True)).to_have_text([re.compile("MUN1 · ARM1"),
                                                     re.compile("MUN1 · ARM2")])
    page.get_by_label(re.compile("MUN1 · ARM2")).check()
    agency.select_option("MUN2")  # another agency: its own boxes only, the other's unticked
    expect(boxes.filter(visible=True)).to_have_text([re.compile("MUN2 · ARM1")])
    assert page.locator("input[value='MUN1:ARM2']").is_checked() is False
    page.get_by_label(re.compile("MUN2 · ARM1")).check()
    page.locator("input[name=planned_on]").fill("2025-03-10")
    page.get_by_role("button", name="Programar", exact=True).click()
    page.wait_for_url(re.compile(r"/inspections/\d+"))
    planned = look(sqlite_world, "inspector", lambda uow: inspections.list_(uow))
    assert [(p["agency"], p["locations"]) for p in planned] == [("MUN2", ["ARM1"])]
    assert not page.errors
    context.close()
