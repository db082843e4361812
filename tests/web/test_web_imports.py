"""The import page: upload, preview with refused rows by line, map columns, commit."""

from __future__ import annotations

import re

from web_support import csrf_of

from world import look

CSV = (
    "Matrícula,Marca,Modelo,Calibre,Tipo,Ubicación,Observación\r\n"
    "IMP-001,Glock,17,9x19mm,pistola,ARM1,nueva\r\n"
    "IMP-002,Glock,19,9x19mm,pistola,ARM2,\r\n"
    "GLK-A100,Glock,17,9x19mm,pistola,ARM1,ya registrada\r\n"
    ",Beretta,92FS,9x19mm,pistola,ARM1,sin matrícula\r\n"
)


def preview(browser, body: str = CSV, **fields):  # type: ignore[no-untyped-def]
    token = csrf_of(browser.get("/import").text)
    return browser.client.post("/import/preview", data={"csrf": token, "kind": "firearms",
                                                        **fields},
                               files={"file": ("inventario.csv", body.encode(), "text/csv")})


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def test_a_preview_names_the_refused_rows_and_imports_nothing(signed_in, sqlite_world):
    armorer = signed_in("armero1")
    page = preview(armorer)
    assert page.status_code == 200
    assert "Vista previa de inventario.csv" in page.text
    assert "no se importará nada" in page.text
    rows = page.text.split("Filas rechazadas")[-1]
    assert ">4<" in rows and ">5<" in rows  # file lines of the duplicate and the empty serial
    assert look(sqlite_world, "armero1",
                lambda uow: uow.repo.firearms(search="IMP").total) == 0


def test_commit_the_valid_rows_with_a_column_mapped_by_hand(signed_in, sqlite_world):
    armorer = signed_in("armero1")
    page = preview(armorer, mode="skip_invalid")
    token = hidden(page.text, "token")
    done = armorer.client.post("/import/commit", data={
        "csrf": csrf_of(page.text), "token": token, "kind": "firearms", "mode": "skip_invalid",
        "agency": "", "location": "", "update": "", "map:Observación": "ignore"})
    assert done.status_code == 200, done.text
    assert "Importación registrada en la bitácora como asiento" in done.text
    assert look(sqlite_world, "armero1",
                lambda uow: uow.repo.firearms(search="IMP").total) == 2
    again = armorer.client.post("/import/commit", data={
        "csrf": csrf_of(page.text), "token": token, "kind": "firearms"})
    assert "El archivo subido ya no está aquí" in again.text  # gone once imported


def test_another_persons_upload_cannot_be_imported(signed_in):
    page = preview(signed_in("armero1"))
    token = hidden(page.text, "token")
    other = signed_in("jefe1")
    html = other.get("/import").text
    stolen = other.client.post("/import/commit", data={"csrf": csrf_of(html), "token": token,
                                                       "kind": "firearms"})
    assert stolen.status_code == 422
    assert "El archivo subido ya no está aquí" in stolen.text


def test_a_role_that_may_not_register_is_refused(signed_in):
    refused = preview(signed_in("supervisor"), agency="MUN1")
    assert refused.status_code == 403
    assert "no puede registrar armas" in refused.text
