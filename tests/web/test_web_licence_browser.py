"""A weapon's page in a real Chromium: the agency's armorer puts an undeclared weapon on
the state's collective licence; a refusal (no reason) is explained in Spanish and records
nothing; the alert for the undeclared weapon goes away; the losses page shows the
complaint, its authority and the negligence determination."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from test_web_browser import new_page, sign_in

from resguardo.services import alerts, custody, registry

from world import do, look

pytestmark = pytest.mark.browser

DEADLINES = {"loss_deadline": timedelta(hours=24), "shift_length": timedelta(hours=14)}


def test_an_armorer_declares_a_weapon_on_the_licence_from_its_page(
        chromium, live, sqlite_world, clock):
    do(sqlite_world, "admin", registry.add_licence, "LOC-SSP-1", "SSP", ["MUN1", "MUN2"],
       date(2025, 1, 1), date(2030, 1, 1))
    clock.advance(days=31)
    fid = look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A100").id)

    def undeclared() -> list[str]:
        return [a.subject for a in look(sqlite_world, "jefe1", alerts.open_alerts, **DEADLINES)
                if a.kind.value == "undeclared_weapon"]

    assert "Glock GLK-A100" in undeclared()
    context, page = new_page(chromium)
    sign_in(page, live, "armero1", f"/firearms/{fid}")
    expect(page.locator("#on-licence")).to_have_text("Sin manifestar en una licencia")
    form = page.locator("form[action$='/licence']")
    expect(form.get_by_label("Licencia")).to_have_value("LOC-SSP-1")
    # a blank reason: the browser asks first; sent anyway, the server refuses in Spanish
    form.get_by_label("Motivo").evaluate("e => e.removeAttribute('required')")
    form.get_by_role("button", name="Registrar").click()
    expect(page.get_by_role("alert")).to_contain_text("Indique el motivo (el acuse de la zona militar")
    assert look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A100").licence_id) is None
    form = page.locator("form[action$='/licence']")
    form.get_by_label("Motivo").fill("Manifestada a la 15a Zona Militar, oficio 311")
    form.get_by_role("button", name="Registrar").click()
    page.wait_for_url(f"{live.url}/firearms/{fid}*")
    expect(page.locator("#on-licence")).to_have_text("LOC-SSP-1")
    assert "Glock GLK-A100" not in undeclared()
    entry = look(sqlite_world, None, lambda uow: [
        e for e in uow.repo.iter_events(0) if e.type == "licence.firearm_attached"][-1])
    assert (entry.actor, entry.reason) == ("armero1",
                                           "Manifestada a la 15a Zona Militar, oficio 311")
    # the losses page: complaint, authority, on duty and negligence, as columns
    do(sqlite_world, "armero1", custody.report_missing, "GLK-A200", stolen=True,
       occurred_on=clock.now.date(), place="Centro", on_duty=False, complaint_number="CI-77",
       complaint_authority="FGE Jalisco")
    page.goto(f"{live.url}/losses")
    row = page.locator("tbody tr", has_text="GLK-A200")
    for text in ("CI-77 · FGE Jalisco", "Aún no determinada"):
        expect(row).to_contain_text(text)
    headers = page.locator("thead th").all_inner_texts()
    assert {"Denuncia", "En servicio", "Negligencia"} <= set(headers), headers
    assert page.errors == []
    context.close()
