"""The weapon page shows a serial in its one form, and what was typed when that differed."""

from __future__ import annotations

import re

import pytest
from web_support import shown

from resguardo.domain.registry import FirearmInput
from resguardo.services import registry

from world import do, look


def words(html: str) -> str:
    return " ".join(shown(html).split())


@pytest.mark.parametrize(("language", "as_typed"), [("es", "tal como se escribió: glk 900 01"),
                                                    ("en", "as typed: glk 900 01")])
def test_a_serial_registered_on_the_form_shows_its_form_and_what_was_typed(
        signed_in, language, as_typed):
    browser = signed_in("armero1")
    if language == "en":
        browser.post("/lang", {"lang": "en", "next": "/"}, page="/")
    done = browser.post("/firearms/new", {"location": "ARM1", "serial": "glk 900 01",
                                          "make": "Glock", "model": "19", "calibre": "9x19mm",
                                          "kind": "pistol"}, page="/firearms/new")
    assert done.status_code == 200 and re.fullmatch(r"/firearms/\d+", done.url.path)
    text = words(done.text)
    assert "GLK90001" in text.split(as_typed)[0]  # the recorded form first, then as typed
    assert as_typed in text
    assert 'id="serial-as-typed"' in done.text


def test_a_serial_typed_in_its_form_shows_no_as_typed(sqlite_world, signed_in):
    ev = do(sqlite_world, "armero1", registry.register_firearm, "MUN1", "ARM1",
            FirearmInput(serial="GLK-C300", make="Glock", calibre="9x19mm", kind="pistol"))
    page = signed_in("armero1").get(f"/firearms/{ev.subject_id}")
    assert "GLK-C300" in words(page.text)
    assert 'id="serial-as-typed"' not in page.text
    assert "tal como se escribió" not in page.text


def test_the_as_typed_serial_is_in_the_weapons_registration_entry(sqlite_world, signed_in):
    ev = do(sqlite_world, "armero1", registry.register_firearm, "MUN1", "ARM1",
            FirearmInput(serial="bm 77-a", make="Beretta", calibre="9x19mm", kind="pistol"))
    recorded = look(sqlite_world, None, lambda uow: uow.repo.event(ev.subject_id)).payload
    assert (recorded["serial"], recorded["serial_as_typed"]) == ("BM77-A", "bm 77-a")
    page = words(signed_in("jefe1").get(f"/firearms/{ev.subject_id}").text)
    assert "BM77-A" in page and "tal como se escribió: bm 77-a" in page
