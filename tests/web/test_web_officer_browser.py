"""An officer's page and the shift desk in a real Chromium, as a chief and an
armorer use them: a renewal that changes one date keeps the rest of the record."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect
from test_web_browser import new_page, sign_in

from resguardo.services import registry

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
    sign_in(page, live.url, "jefe1")
    page.goto(f"{live.url}/officers/{officer.id}")
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
