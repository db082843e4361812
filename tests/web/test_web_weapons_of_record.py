"""Weapons of record on the officer's page, his printed credential, the desk and the receipt."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader
from web_support import csrf_of, set_pin

from resguardo.services import credential, custody, registry

from world import do, look


def pdf_text(body: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages).split())


def p1(app) -> int:  # type: ignore[no-untyped-def]
    return look(app, None, lambda uow: uow.repo.officer(uow.repo.org("MUN1").id, "P1").id)


def test_a_chief_assigns_on_the_officer_page_and_prints_the_credential(sqlite_world, signed_in):
    do(sqlite_world, "jefe1", registry.renew_officer, "MUN1", "P1", credential_folio="CRED-9")
    chief = signed_in("jefe1")
    page = f"/officers/{p1(sqlite_world)}"
    assert "Armas de cargo" in chief.get(page).text
    refused = chief.post(f"{page}/assign", {"serial": "BER-B100"}, page=page)
    assert refused.status_code == 422  # another agency's weapon
    done = chief.post(f"{page}/assign", {"serial": "GLK-A100"}, page=page)
    assert done.status_code == 200, done.text
    shown = chief.get(page).text.split('id="of-record"')[1].split("</section>")[0]
    assert "GLK-A100" in shown and "Retirar el arma de cargo" in shown

    pdf = chief.get(f"{page}/credential.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    for part in ("Credencial y resguardo de armas de cargo", "CRED-9", "Ana Ruiz", "GLK-A100",
                 "Clave pública de credenciales"):
        assert part in text, part

    armorer = signed_in("armero1")
    assert armorer.get(f"{page}/credential.pdf").status_code == 403
    assert "Asignar como arma de cargo" not in armorer.get(page).text

    withdrawn = chief.post(f"{page}/unassign", {"serial": "GLK-A100", "reason": "Cambio"},
                           page=page)
    assert withdrawn.status_code == 200
    assert look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A100").record_officer_id) \
        is None


def test_the_desk_and_the_receipt_show_the_weapon_of_record_beside_the_pool_weapon(
        sqlite_world, signed_in):
    do(sqlite_world, "jefe1", registry.renew_officer, "MUN1", "P1", credential_folio="CRED-9")
    do(sqlite_world, "jefe1", credential.assign, "P1", "GLK-A100")
    do(sqlite_world, "armero1", custody.issue, "GLK-A200", "P1")  # a pool weapon
    set_pin(sqlite_world, "MUN1", "P1", "4821")
    armorer = signed_in("armero1")
    token = csrf_of(armorer.get("/desk").text)
    card = armorer.client.post("/desk", data={"csrf": token, "badge": "P1"}).text
    of_record = re.search(r'id="desk-of-record">(.*?)</dd>', card, re.S)
    held = re.search(r'id="desk-held">(.*?)</dd>', card, re.S)
    assert of_record and "GLK-A100" in of_record.group(1)
    assert held and "GLK-A200" in held.group(1) and "arma de dotación diaria" in held.group(1)
    fid = look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A200").id)
    receipt = pdf_text(armorer.get(f"/firearms/{fid}/receipt.pdf").content)
    assert "Armas de cargo" in receipt and "GLK-A100" in receipt


def test_the_trace_page_names_the_officer_of_record(sqlite_world, signed_in):
    do(sqlite_world, "jefe1", registry.renew_officer, "MUN1", "P1", credential_folio="CRED-9")
    do(sqlite_world, "jefe1", credential.assign, "P1", "GLK-A100")
    page = signed_in("investigador").post("/trace", {"serial": "GLK-A100",
                                                     "reason": "CI/0078/2025"})
    assert page.status_code == 200
    found = re.search(r"<dd data-of-record>(.*?)</dd>", page.text)
    assert found and "P1" in found.group(1) and "Ana Ruiz" in found.group(1)
    assert "Arma de cargo de" in page.text
