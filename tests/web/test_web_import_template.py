"""The import page offers a template per kind of sheet, written from the importer's own
column definitions, and lists the accepted headers: a template downloaded in Chromium and
filled with one row imports; every header the page lists is one the importer reads."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from test_web_browser import new_page, sign_in
from web_support import shot

from resguardo.web.pages.imports import SCHEMAS

from world import look

pytestmark = pytest.mark.browser


def test_a_downloaded_template_filled_with_one_row_imports(chromium, live, sqlite_world,
                                                          tmp_path):
    context, page = new_page(chromium)
    sign_in(page, live, "armero1", "/import")
    columns = page.locator("details[data-kind=firearms]")
    # the required columns are marked, with words for a screen reader
    serial_row = columns.locator("tr", has_text="Matrícula").first
    assert serial_row.locator(".required").evaluate(
        "e => getComputedStyle(e, '::before').content").startswith('"*"')
    assert "(obligatorio)" in serial_row.inner_text()
    assert "serial number" in serial_row.inner_text()  # an accepted English header
    assert columns.locator("tr", has_text="Modelo").locator(".required").count() == 0
    shot(page, "import-0-template")
    with page.expect_download() as caught:
        columns.get_by_role("link", name="Descargar la plantilla (Excel)").click()
    download = caught.value
    assert download.suggested_filename == "plantilla-armas.xlsx"
    path = tmp_path / "plantilla-armas.xlsx"
    download.save_as(path)

    book = load_workbook(path)
    sheet = book.worksheets[0]
    heads = [c.value for c in sheet[1]]
    assert heads[:5] == ["Matrícula", "Marca", "Modelo", "Calibre", "Tipo"]
    assert sheet["A1"].font.bold and not sheet["C1"].font.bold  # required ones stand out
    assert book.worksheets[1]["B2"].value == "Sí"
    row = {"Matrícula": "TPL-0001", "Marca": "Glock", "Modelo": "17", "Calibre": "9x19mm",
           "Tipo": "pistola", "Ubicación": "ARM1"}
    sheet.append([row.get(h) for h in heads])
    book.save(path)

    page.get_by_label("Archivo", exact=True).set_input_files(str(path))
    page.get_by_role("button", name="Vista previa").click()
    page.get_by_text("Vista previa de plantilla-armas.xlsx").wait_for()
    page.get_by_role("button", name="Importar ahora").click()
    page.get_by_text("Importación registrada en la bitácora").wait_for()
    assert not page.errors, page.errors
    context.close()
    firearm = look(sqlite_world, None, lambda uow: uow.repo.firearm("TPL-0001"))
    assert (firearm.make, firearm.calibre) == ("Glock", "9x19mm")


def test_the_csv_templates_hold_headers_the_importer_reads(signed_in):
    armorer = signed_in("armero1")
    for kind, schema in SCHEMAS.items():
        answer = armorer.get(f"/import/template/{kind}.csv")
        assert answer.status_code == 200
        heads = next(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
        assert [schema.match(h) for h in heads] == [f.name for f in schema.fields]
    assert armorer.get("/import/template/ledger.csv").status_code == 404
