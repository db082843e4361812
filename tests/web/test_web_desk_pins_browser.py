"""The shift desk in a real Chromium, as an armorer and a chief run it: the
officer card says when a credential expired; officers set their first PIN at the
desk with the armorer's or chief's confirmation."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader
from test_web_browser import new_page, sign_in
from web_support import set_pin

from resguardo.services import pins, registry

from world import do, look

pytestmark = pytest.mark.browser


def test_the_desk_card_says_an_expired_credential_expired(chromium, live, sqlite_world, clock):
    do(sqlite_world, "jefe1", registry.renew_officer, "MUN1", "P1",
       credential_expiry=date(2025, 3, 31))
    clock.advance(days=30)
    context, page = new_page(chromium)
    sign_in(page, live, "armero1", "/desk")
    page.keyboard.type("P1")
    page.keyboard.press("Enter")
    card = page.get_by_role("region", name="Elemento")
    expect(card).to_contain_text("venció el 31 mar 2025")
    expect(card).not_to_contain_text("vigente hasta el 31 mar 2025")
    assert not page.errors
    context.close()


def test_an_officer_sets_a_first_pin_at_the_desk_and_takes_a_weapon(chromium, live,
                                                                    sqlite_world):
    context, page = new_page(chromium)
    sign_in(page, live, "armero1", "/desk")
    page.keyboard.type("P2")  # Luis Mora: no PIN yet
    page.keyboard.press("Enter")
    expect(page.locator("input[name=serial]")).to_be_focused()
    page.keyboard.type("GLK-A200")
    page.keyboard.press("Enter")
    page.get_by_text("Entregar GLK-A200").wait_for()
    first = page.locator("#pin-first")
    expect(first).to_contain_text("Este elemento aún no tiene NIP de armería")
    # the officer's next step is a first PIN: the cursor waits there, not in the PIN
    # confirmation below (the page settles a moment after it appears)
    expect(first.get_by_label("NIP nuevo (lo escribe el elemento)")).to_be_focused()
    first.get_by_label("NIP nuevo (lo escribe el elemento)").fill("2468")
    first.get_by_label("El mismo NIP otra vez").fill("2469")
    first.get_by_label("Comprobé en persona la identidad del elemento").check()
    first.get_by_role("button", name="Fijar el NIP del elemento").click()
    expect(page.locator(".refusal").first).to_contain_text("Los dos NIP no coinciden")
    first = page.locator("#pin-first")
    expect(first.get_by_label("NIP nuevo (lo escribe el elemento)")).to_be_focused()
    first.get_by_label("NIP nuevo (lo escribe el elemento)").fill("2468")
    first.get_by_label("El mismo NIP otra vez").fill("2468")
    first.get_by_label("Comprobé en persona la identidad del elemento").check()
    first.get_by_role("button", name="Fijar el NIP del elemento").click()
    expect(page.locator("#pin-first-done")).to_contain_text("NIP asignado.")
    expect(page.locator("#pin-first")).to_have_count(0)
    expect(page.locator("input[name=pin]")).to_be_focused()
    page.locator("input[name=pin]").fill("2468")  # the officer confirms with it at once
    page.keyboard.press("Enter")
    page.get_by_text("Entregada.").wait_for()
    assert look(sqlite_world, None,
                lambda uow: uow.repo.firearm("GLK-A200").status.value) == "issued"
    officer = look(sqlite_world, None, lambda uow: uow.repo.officer(uow.repo.org("MUN1").id,
                                                                    "P2"))
    page.goto(f"{live.url}/officers/{officer.id}")  # the officer's page says how it was set
    expect(page.locator("[data-pin-how]")).to_contain_text(
        "Primer NIP, escrito por el elemento en la armería; identidad comprobada en persona "
        "por armero1")
    assert not page.errors
    context.close()


def test_the_desk_offers_no_pin_form_for_an_officer_who_has_one(chromium, live, sqlite_world):
    set_pin(sqlite_world, "MUN1", "P1", "4821")
    context, page = new_page(chromium)
    sign_in(page, live, "armero1", "/desk")
    page.keyboard.type("P1")
    page.keyboard.press("Enter")
    page.locator("input[name=serial]").wait_for()
    expect(page.locator("#pin-first")).to_have_count(0)
    context.close()


def test_a_chief_prints_pin_slips_for_the_officers_without_one(chromium, live, sqlite_world):
    set_pin(sqlite_world, "MUN1", "P1", "4821")
    context, page = new_page(chromium)
    sign_in(page, live, "jefe1", "/officers")
    page.get_by_role("link", name="Volantes de NIP").click()
    expect(page.locator("#slips-count")).to_contain_text(
        "2 elementos activos de Policía Municipal 1 aún no tienen NIP.")
    with page.expect_download() as got:
        page.get_by_role("button", name="Fijar los NIP e imprimir los volantes (PDF)").click()
    pdf = got.value.path().read_bytes()
    text = " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    assert "P2 · Luis Mora" in text and "P3 · Eva Soto" in text and "Ana Ruiz" not in text
    assert "Memorícelo y destruya este volante." in text
    printed = re.findall(r"\b(\d) (\d) (\d) (\d) (\d) (\d)\b", text)
    assert len(printed) == 2
    p2 = "".join(printed[0])
    with sqlite_world.work("armero1") as uow:  # the printed PIN is P2's, and works
        pins.verify_pin(uow, uow.repo.officer(uow.repo.org("MUN1").id, "P2"), p2)
    page.goto(f"{live.url}/officers/pin-slips")
    expect(page.locator("#slips-count")).to_contain_text("0 elementos activos")
    expect(page.get_by_role("button", name="Fijar los NIP e imprimir los volantes (PDF)")) \
        .to_have_count(0)
    assert not page.errors
    context.close()


def test_the_new_pages_are_spanish_and_finished_for_each_role(chromium, live, sqlite_world):
    """The label, PIN-slip and desk pages this work added, under the walk's checks."""
    from test_web_walk import ENGLISH, RAW, look_at

    fid = look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A100").id)
    paths = [f"/firearms/{fid}/label", "/firearms/labels", "/officers/pin-slips", "/desk"]
    problems = []
    context, page = new_page(chromium)
    for username in ("armero1", "jefe1", "admin", "inspector"):
        for n, path in enumerate(paths):
            response = sign_in(page, live, username, path) if n == 0 else \
                page.goto(f"{live.url}{path}")
            assert response is not None
            seen = look_at(page)
            text = seen["plain"]
            where = f"{username} {path} ({response.status})"
            assert text is not None, f"{where}: no main part"
            if response.status >= 500:
                problems.append(f"{where}: server error")
            if response.status in (403, 404) and not seen["explained"]:
                problems.append(f"{where}: refused without saying why")
            if RAW.search(text) or ENGLISH.findall(text):
                problems.append(f"{where}: {RAW.findall(text)} {ENGLISH.findall(text)}")
            if seen["headings"] == 0:
                problems.append(f"{where}: no heading")
        if username == "armero1":  # the desk's serial step, with the first-PIN form
            page.goto(f"{live.url}/desk")
            page.keyboard.type("P2")
            page.keyboard.press("Enter")
            expect(page.locator("#pin-first")).to_be_visible()
            found = ENGLISH.findall(look_at(page)["plain"])
            if found:
                problems.append(f"desk serial step: {found}")
        assert not page.errors, (username, page.errors)
    context.close()
    assert not problems, "\n".join(problems)
