"""The import page: upload, preview with refused rows by line, map columns, commit."""

from __future__ import annotations

import csv
import html
import io
import re

import web_support
from web_support import csrf_of

from resguardo.services.import_messages import OPTION_NAMES

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


def hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', page).group(1)


def words(page: str) -> str:
    """What the page says, as read (tags left out, entities decoded)."""
    return html.unescape(web_support.shown(page))


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


def test_with_refused_rows_the_preview_offers_the_valid_ones_and_a_file_of_the_rest(
        signed_in, sqlite_world):
    armorer = signed_in("armero1")
    page = preview(armorer)
    shown = words(page.text)
    assert "Importar ahora" not in shown  # all or nothing: a plain import cannot succeed
    assert "Importar solo los 2 renglones válidos" in shown
    # the refusal names the option as this page offers it, not the command line's flag
    assert "marque «Actualizar los registros que ya existen» para actualizarla" in shown
    assert "--update" not in page.text
    size = look(sqlite_world, None, lambda uow: uow.repo.log_size())
    fields = {"csrf": csrf_of(page.text), "token": hidden(page.text, "token"),
              "kind": "firearms", "mode": "all_or_nothing", "agency": "", "location": "",
              "update": ""}
    download = armorer.client.post("/import/rejects", data=fields)
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert 'filename="inventario-rechazos.csv"' in download.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0] == ["Matrícula", "Marca", "Modelo", "Calibre", "Tipo", "Ubicación",
                       "Observación", "error"]
    assert [row[0] for row in rows[1:]] == ["GLK-A100", ""]
    assert rows[1][-1].startswith("inventario.csv, línea 4, columna A (Matrícula): ")
    assert "«Actualizar los registros que ya existen»" in rows[1][-1]
    assert look(sqlite_world, None, lambda uow: uow.repo.log_size()) == size  # a dry run

    refused = armorer.client.post("/import/commit", data=fields)  # an old form's plain import
    assert refused.status_code == 422
    assert "No se importó nada." in refused.text
    assert look(sqlite_world, None, lambda uow: uow.repo.log_size()) == size

    done = armorer.client.post("/import/commit", data={**fields, "only_valid": "yes"})
    assert done.status_code == 200, done.text
    assert "2 nuevos, 0 actualizados, 0 sin cambios, 2 rechazados, de 4 renglones" in done.text
    assert look(sqlite_world, "armero1",
                lambda uow: uow.repo.firearms(search="IMP").total) == 2


def test_a_location_the_page_does_not_know_is_asked_of_whoever_may_add_it(signed_in):
    body = ("Matrícula,Marca,Calibre,Tipo,Ubicación\r\n"
            "IMP-101,Glock,9x19mm,pistola,Bodega Poniente\r\n")
    page = preview(signed_in("armero1"), body, create_missing="yes")
    shown = words(page.text)
    assert ("no hay ubicación 'Bodega Poniente' en MUN1; use el código o el nombre de una "
            "ubicación, o pida el alta a su jefe o al administrador") in shown
    assert "Crear" not in shown and "create_missing" not in page.text  # the page creates none
    assert "Importar" not in shown.split("Filas rechazadas")[-1]  # nothing valid to import


def test_the_options_the_messages_name_are_the_labels_on_the_page(signed_in):
    """The web's names for --update, --create-missing and --location are its own labels."""
    armorer = signed_in("armero1")
    for lang in ("es", "en"):
        armorer.post("/lang", {"lang": lang, "next": "/import"}, page="/")
        text = words(armorer.get("/import").text)
        for name in OPTION_NAMES["web"][lang].values():
            assert name.strip("«»“”") in text, (lang, name)


def test_a_file_with_no_rows_is_refused_in_spanish_naming_it(signed_in, sqlite_world):
    armorer = signed_in("armero1")
    with sqlite_world.read(None) as uow:
        before = uow.repo.log_size()
    page = preview(armorer, body="Matrícula,Marca,Calibre,Tipo\r\n")
    assert page.status_code == 422
    assert "El archivo inventario.csv no tiene renglones que importar" in words(page.text)
    with sqlite_world.read(None) as uow:
        assert uow.repo.log_size() == before


def test_a_formula_cell_is_named_on_the_preview_and_asks_for_the_value(signed_in, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Matrícula", "Marca", "Calibre", "Tipo", "Ubicación"])
    book.active.append(["FOR-1", "Glock", "=B2", "pistola", "ARM1"])
    book.save(tmp_path / "inventario.xlsx")
    armorer = signed_in("armero1")
    token = csrf_of(armorer.get("/import").text)
    page = armorer.client.post("/import/preview", data={"csrf": token, "kind": "firearms"},
                               files={"file": ("inventario.xlsx",
                                               (tmp_path / "inventario.xlsx").read_bytes(),
                                               "application/octet-stream")})
    assert page.status_code == 200
    shown = words(page.text)
    assert "C2 contiene una fórmula (=B2); escriba el valor en su lugar" in shown
    assert "falta este dato obligatorio" not in shown


def test_a_hostile_workbook_is_refused_in_spanish_naming_the_limit(signed_in, sqlite_world):
    from hostile_workbooks import CASES

    armorer = signed_in("armero1")
    with sqlite_world.read(None) as uow:
        before = uow.repo.log_size()
    data = next(c for c in CASES if c.name == "long_comment").make()
    token = csrf_of(armorer.get("/import").text)
    page = armorer.client.post("/import/preview", data={"csrf": token, "kind": "firearms"},
                               files={"file": ("comentario.xlsx", data, "application/zip")})
    assert page.status_code == 422
    assert ("Se rechazó el libro comentario.xlsx: una pieza de su XML (una etiqueta o un "
            "comentario) mide más de 1.0 MiB, el límite.") in words(page.text)
    with sqlite_world.read(None) as uow:
        assert uow.repo.log_size() == before


def test_a_busy_server_says_so_and_a_full_queue_refuses_in_spanish(signed_in, sqlite_world,
                                                                  monkeypatch):
    from resguardo.services import import_gate

    gate = import_gate.ImportGate(slots=1, places=0, wait=0)
    monkeypatch.setattr(import_gate, "_GATE", gate)
    armorer = signed_in("armero1")
    with gate.slot("jefe1"):  # someone else's import is being read
        page = armorer.get("/import")
        assert "El servidor está leyendo 1 importación." in words(page.text)
        refused = preview(armorer)
    assert refused.status_code == 422
    assert ("El servidor está leyendo 1 importación y 0 más esperan: la fila está llena. "
            "Intente de nuevo en un minuto.") in words(refused.text)
    assert "El servidor está leyendo" not in words(armorer.get("/import").text)
    assert look(sqlite_world, "armero1",
                lambda uow: uow.repo.firearms(search="IMP").total) == 0
