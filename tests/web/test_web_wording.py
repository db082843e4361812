"""Phrases a person noticed on the Spanish pages: who recorded an entry made by no person,
the badge of one open inspection, the hint of an optional moment, the receipt's last line."""

from __future__ import annotations

import re
from datetime import date

from test_web_firearms import pdf_text
from web_support import shown

from resguardo.services import custody, inspections

from world import do, look


def test_an_entry_made_by_no_person_says_the_system_recorded_it(sqlite_world, signed_in):
    do(sqlite_world, None, custody.issue, "GLK-A100", "P1")  # e.g. a command-line import
    fid = look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A100").id)
    page = shown(signed_in("armero1").get(f"/firearms/{fid}").text)
    assert "· el sistema ·" in " ".join(page.split())
    assert not re.search(r"\bsystem\b", page)


def test_one_open_inspection_is_abierta_and_the_notice_hint_reads_well(sqlite_world, signed_in):
    # an inspection's number is the ledger entry that planned it
    inspection_id = do(sqlite_world, "inspector", inspections.plan, "MUN2",
                       date(2025, 3, 20)).position
    do(sqlite_world, "inspector", inspections.open_, inspection_id)
    inspector = signed_in("inspector")
    words = " ".join(shown(inspector.get("/").text).split())
    assert "Abierta Policía Municipal 2" in words
    assert "Abiertas" not in words
    listing = " ".join(shown(inspector.get("/inspections").text).split())
    assert "Abierta" in listing and "Abiertas" not in listing

    do(sqlite_world, "armero1", custody.report_missing, "GLK-A300", stolen=False,
       occurred_on=date(2025, 3, 1), place="Patrulla 12", on_duty=True,
       complaint_number="FGE/1/2025", complaint_authority="FGE Jalisco")
    fid = look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A300").id)
    page = " ".join(shown(signed_in("jefe1").get(f"/firearms/{fid}").text).split())
    assert "si lo deja vacío, se registra la hora actual" in page
    assert "vacío para ahora" not in page


def test_the_receipt_ends_its_last_sentence_once(sqlite_world, signed_in):
    do(sqlite_world, "armero1", custody.issue, "GLK-A100", "P1")
    fid = look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A100").id)
    text = " ".join(pdf_text(signed_in("armero1").get(f"/firearms/{fid}/receipt.pdf").content)
                    .split())
    # the time, perhaps followed by its zone in parentheses, then one full stop
    assert re.search(r"\(impreso el [^()]*\d:\d\d[^()]*(\([^()]*\))?\)\.", text), text[-300:]
    assert ".." not in text
