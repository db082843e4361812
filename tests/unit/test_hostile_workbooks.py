"""Workbooks read as a stream with a budget: each hostile one is refused naming the limit
it passed, before openpyxl reads it; the import queue keeps order and says where one
stands; a refusal reaches a Spanish page in Spanish."""

from __future__ import annotations

import io
import threading
import zipfile

import pytest
from openpyxl import Workbook

from hostile_workbooks import CASES, MAIN, SHEET_CLOSE, SHEET_OPEN, TEST_LIMITS, workbook
from resguardo.domain.errors import ImportsBusy, ValidationFailed
from resguardo.services.import_gate import ImportGate
from resguardo.sheets import REGISTRY_SHEET, open_sheet, xlsxscan
from resguardo.sheets.guard import SheetLimits, check_file
from resguardo.web.i18n import Lang
from resguardo.web.refusals import explain

LIMITS = SheetLimits(**TEST_LIMITS)
REFUSED = [c for c in CASES if c.limit is not None]


@pytest.mark.slow
@pytest.mark.parametrize("case", REFUSED, ids=[c.name for c in REFUSED])
def test_a_hostile_workbook_is_refused_naming_the_limit(tmp_path, monkeypatch, case):
    import openpyxl

    def never(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("openpyxl must not open a hostile workbook")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    data = case.make()
    path = tmp_path / f"{case.name}.xlsx"
    path.write_bytes(data)
    if case.name.startswith("ratio_"):
        # an edge case: under the ratio limit, so that the ratio alone does not refuse it
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                assert info.file_size <= 200 * max(info.compress_size, 1), info.filename
    with pytest.raises(ValidationFailed) as caught:
        check_file(path, LIMITS)
    details = caught.value.details
    assert details["hostile"] is True
    assert details["limit"] == case.limit, caught.value.message
    assert caught.value.message.startswith(f"{case.name}.xlsx: ")
    assert details["limit_value"] in caught.value.message


@pytest.mark.slow
def test_a_workbook_of_empty_rows_is_read_through_and_refused_for_no_header(tmp_path):
    case = next(c for c in CASES if c.name == "many_tall_rows")
    path = tmp_path / "filas.xlsx"
    path.write_bytes(case.make())
    assert check_file(path, LIMITS) == "xlsx"
    with pytest.raises(ValidationFailed, match="no header row"):
        open_sheet(path, REGISTRY_SHEET)


def test_a_scan_that_takes_too_long_is_refused_with_the_limit(tmp_path, monkeypatch):
    case = next(c for c in CASES if c.name == "many_empty_rows")
    path = tmp_path / "lento.xlsx"
    path.write_bytes(case.make())
    ticks = iter(range(0, 10**9, 7))  # a clock that moves 7 s at every look
    monkeypatch.setattr(xlsxscan.time, "monotonic", lambda: next(ticks))
    with pytest.raises(ValidationFailed) as caught:
        check_file(path, SheetLimits(max_seconds=60))
    assert caught.value.details["limit"] == "seconds"
    assert "took longer than 60 seconds" in caught.value.message


def test_shared_strings_read_compactly_give_the_text_as_written(tmp_path):
    strings = (b'<sst xmlns="' + MAIN.encode() + b'">'
               b"<si><t>Serie</t></si><si><t>Marca</t></si><si><t>Calibre</t></si>"
               b"<si><t>Tipo</t></si><si><t>\xc3\x91AND\xc3\x9a-001</t></si>"
               b"<si><r><t>RICO-</t></r><r><rPr><b/></rPr><t>007</t></r></si>"
               b'<si><t>Glock</t><rPh sb="0" eb="1"><t>gu</t></rPh></si>'
               b'<si><t xml:space="preserve">  espacios  </t></si></sst>')
    cells = b"".join(b'<c r="%s" t="s"><v>%d</v></c>' % (ref, n) for ref, n in (
        (b"A1", 0), (b"B1", 1), (b"C1", 2), (b"D1", 3), (b"A2", 4), (b"B2", 6),
        (b"A3", 5), (b"B3", 7)))
    rows = [b"", b"", b""]
    for chunk in cells.split(b"</c>")[:-1]:
        row = int(chunk.split(b'r="')[1][1:2])
        rows[row - 1] += chunk + b"</c>"
    sheet = SHEET_OPEN + b"".join(b'<row r="%d">%s</row>' % (n + 1, r)
                                  for n, r in enumerate(rows)) + SHEET_CLOSE
    path = tmp_path / "texto.xlsx"
    path.write_bytes(workbook(iter([sheet]), strings=iter([strings])))
    check_file(path, SheetLimits())
    with open_sheet(path, REGISTRY_SHEET, require=False) as opened:
        assert opened.headers == ["Serie", "Marca", "Calibre", "Tipo"]
        rows_read = [cells[:2] for _line, cells in opened.rows()]
    # runs joined, the phonetic guide left out, spaces kept
    assert rows_read == [["ÑANDÚ-001", "Glock"], ["RICO-007", "  espacios  "]]


def test_rows_keep_their_numbers_across_gaps(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Serie", "Marca", "Calibre", "Tipo"])
    sheet["A40"], sheet["B40"], sheet["C40"], sheet["D40"] = "LEJOS-1", "Glock", "9mm", "pistola"
    path = tmp_path / "huecos.xlsx"
    book.save(path)
    with open_sheet(path, REGISTRY_SHEET) as opened:
        assert [line for line, _cells in opened.rows()] == [40]


# --- the import queue ------------------------------------------------------------------------


def test_the_queue_lets_two_read_and_says_where_the_third_waits():
    gate = ImportGate(slots=2, places=1, wait=30)
    release = threading.Event()
    inside = threading.Barrier(3)
    order: list[str] = []

    def hold(user: str) -> None:
        with gate.slot(user):
            order.append(user)
            inside.wait()
            release.wait()

    first = [threading.Thread(target=hold, args=(u,)) for u in ("ana", "luis")]
    for t in first:
        t.start()
    inside.wait()
    waiting = threading.Thread(target=_wait_in, args=(gate, "eva", order))
    waiting.start()
    while gate.state("eva").waiting == 0:
        threading.Event().wait(0.01)
    state = gate.state("eva")
    assert (state.running, state.waiting, state.mine) == (2, 1, (1,))
    assert gate.state("ana").mine == ()
    # the queue holds one: a fourth is refused at once, with the counts
    with pytest.raises(ImportsBusy) as caught, gate.slot("rosa"):
        pass
    assert caught.value.details["running"] == 2 and caught.value.details["waiting"] == 1
    assert "reading 2 imports and 1 wait" in caught.value.message
    release.set()
    for t in first:
        t.join()
    waiting.join()
    assert order[2] == "eva"
    assert gate.state().running == 0


def _wait_in(gate: ImportGate, user: str, order: list[str]) -> None:
    with gate.slot(user):
        order.append(user)


def test_a_wait_too_long_is_refused_with_the_position():
    gate = ImportGate(slots=1, places=4, wait=0)
    with gate.slot("ana"), pytest.raises(ImportsBusy) as caught, gate.slot("luis"):
        pass
    assert caught.value.details["position"] == 1
    assert "at position 1, behind 1 running" in caught.value.message
    assert gate.state().waiting == 0


# --- said in Spanish -------------------------------------------------------------------------


def test_a_workbook_refusal_reaches_the_page_in_spanish_with_the_limit(tmp_path):
    path = tmp_path / "celdas.xlsx"
    path.write_bytes(next(c for c in CASES if c.name == "ratio_cells_at_xfd").make())
    with pytest.raises(ValidationFailed) as caught:
        check_file(path, LIMITS)
    assert explain(caught.value, Lang("es")) == (
        "Se rechazó el libro celdas.xlsx: sus hojas tienen más de 40,000,000 celdas, el límite.")


def test_a_full_import_queue_is_said_in_spanish():
    error = ImportsBusy("the server is reading 2 imports and 8 wait", running=2, waiting=8)
    assert explain(error, Lang("es")) == (
        "El servidor está leyendo 2 importaciones y 8 más esperan: la fila está llena. "
        "Intente de nuevo en un minuto.")


def test_budgets_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("RESGUARDO_IMPORT_MAX_CELLS", "1000")
    monkeypatch.setenv("RESGUARDO_IMPORT_MAX_SECONDS", "5")
    limits = SheetLimits.from_env()
    assert (limits.max_cells, limits.max_seconds) == (1000, 5)
    monkeypatch.setenv("RESGUARDO_IMPORT_CONCURRENT", "3")
    monkeypatch.setenv("RESGUARDO_IMPORT_QUEUE", "0")
    gate = ImportGate.from_env()
    assert (gate.slots, gate.places) == (3, 0)



def test_a_revista_count_file_and_a_reconciliation_registry_are_checked_too(tmp_path):
    from resguardo.sheets import read_count
    from resguardo.sheets.firearms import prepare_registry

    path = tmp_path / "conteo.xlsx"
    path.write_bytes(next(c for c in CASES if c.name == "long_comment").make())
    with pytest.raises(ValidationFailed) as caught:
        list(read_count(path))
    assert caught.value.details["limit"] == "markup"
    with pytest.raises(ValidationFailed) as caught:
        prepare_registry(path)
    assert caught.value.details["limit"] == "markup"
