"""Reading spreadsheets as people write them: CSV quirks, XLSX cells, headers, dates, errors."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from resguardo.domain.codes import FirearmKind, FirearmStatus
from resguardo.domain.errors import ValidationFailed
from resguardo.domain.serials import serial_key
from resguardo.sheets import (
    COUNT_SHEET,
    REGISTRY_SHEET,
    DateError,
    columnar,
    fold_header,
    open_sheet,
    parse_date,
    parse_moment,
    read_count,
    read_registry,
)
from resguardo.sheets.firearms import prepare_count, prepare_registry
from resguardo.sheets.shards import SEPARATORS, Shard

REGISTRY_HEADER = "Matrícula,Marca,Calibre,Tipo,Estatus,Ubicación,Resguardante"


def write(tmp_path: Path, text: str, name: str = "sheet.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def xlsx(tmp_path: Path, rows: list[list[object]], name: str = "book.xlsx", **kw) -> Path:  # type: ignore[no-untyped-def]
    book = Workbook()
    sheet = book.active
    sheet.title = kw.get("title", "Inventario")
    for row in rows:
        sheet.append(row)
    for extra_title, extra_rows in kw.get("extra", {}).items():
        extra = book.create_sheet(extra_title)
        for row in extra_rows:
            extra.append(row)
    path = tmp_path / name
    book.save(path)
    return path


# -- CSV --------------------------------------------------------------------------------


def test_a_comma_separated_registry_is_read_into_entries(tmp_path):
    path = write(
        tmp_path,
        REGISTRY_HEADER + "\nAB-1,Glock,9mm,Pistola,En armería,Armería 1,\n"
        "AB-2,Colt,.38,revólver,asignada,,P-0142\n",
    )
    entries = list(read_registry(path))
    assert [e.serial for e in entries] == ["AB-1", "AB-2"]
    assert entries[0].status is FirearmStatus.IN_STORAGE
    assert entries[0].location == "Armería 1"
    assert entries[0].custodian is None
    assert entries[1].status is FirearmStatus.ISSUED
    assert entries[1].kind is FirearmKind.REVOLVER
    assert entries[1].custodian == "P-0142"


def test_a_semicolon_separated_file_from_spanish_excel_is_read(tmp_path):
    path = write(
        tmp_path,
        "Serie;Marca;Calibre;Tipo\nAB1;Glock;9mm;pistola\nAB2;Colt;.38, especial;revolver\n",
    )
    entries = list(read_registry(path))
    assert [(e.serial, e.calibre) for e in entries] == [("AB1", "9mm"), ("AB2", ".38, especial")]


def test_a_tab_separated_file_is_read(tmp_path):
    path = write(tmp_path, "serial\tmake\tcalibre\tkind\nAB1\tGlock\t9mm\tpistol\n")
    assert [e.make for e in read_registry(path)] == ["Glock"]


def test_a_utf8_file_with_a_byte_order_mark_keeps_its_first_header(tmp_path):
    path = write(tmp_path, "\ufeffMatrícula,Marca,Calibre,Tipo\nAB1,Glock,9mm,pistola\n")
    assert [e.serial for e in read_registry(path)] == ["AB1"]


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_a_windows_or_latin1_file_keeps_its_accents(tmp_path, encoding):
    path = write(
        tmp_path,
        REGISTRY_HEADER + "\nAB1,Glock,9mm,pistola,en armería,Depósito Norte,\n",
        encoding=encoding,
    )
    (entry,) = read_registry(path)
    assert entry.location == "Depósito Norte"


def test_a_latin1_accent_far_into_the_file_is_still_detected(tmp_path):
    rows = "".join(f"A{n},Glock,9mm,pistola,en armeria,Norte,\n" for n in range(30_000))
    path = write(
        tmp_path,
        REGISTRY_HEADER + "\n" + rows + "Z9,Glock,9mm,pistola,en armería,Sur,\n",
        encoding="latin-1",
    )
    entries = list(read_registry(path))
    assert entries[-1].status is FirearmStatus.IN_STORAGE
    assert len(entries) == 30_001


def test_a_utf16_tab_separated_export_is_read(tmp_path):
    path = write(
        tmp_path,
        "\ufeffSerie\tMarca\tCalibre\tTipo\r\nAB1\tGlock\t9mm\tpistola\r\n",
        encoding="utf-16-le",
    )
    assert [e.serial for e in read_registry(path)] == ["AB1"]


def test_crlf_line_ends_leave_no_carriage_return_in_the_last_column(tmp_path):
    path = write(tmp_path, "Serie,Marca,Calibre,Tipo\r\nAB1,Glock,9mm,pistola\r\n")
    (entry,) = read_registry(path)
    assert entry.kind is FirearmKind.PISTOL


def test_quoted_fields_may_hold_delimiters_quotes_and_newlines(tmp_path):
    path = write(
        tmp_path,
        "Matrícula,Ubicación,Observaciones\r\n"
        'AB1,"Armería 1, planta baja","dice ""ok""\r\nsegunda línea"\r\n'
        "AB2,Armería 2,\r\n",
    )
    scans = list(read_count(path))
    assert scans[0].location == "Armería 1, planta baja"
    assert scans[0].note == 'dice "ok"\r\nsegunda línea'
    assert [s.order for s in scans] == [2, 4]


def test_rows_keep_the_line_number_a_spreadsheet_shows(tmp_path):
    path = write(tmp_path, "\n\nMatrícula\nAB1\n\nAB2\n,\n  \nAB3\n")
    assert [(s.serial, s.order) for s in read_count(path)] == [("AB1", 4), ("AB2", 6), ("AB3", 9)]


def test_short_rows_are_padded_and_cells_are_trimmed(tmp_path):
    path = write(tmp_path, "Matrícula,Ubicación,Portador\n  AB1 , Armería 1 \nAB2\n")
    scans = list(read_count(path))
    assert (scans[0].serial, scans[0].location, scans[0].holder) == ("AB1", "Armería 1", None)
    assert (scans[1].serial, scans[1].location) == ("AB2", None)


def test_a_file_named_like_a_workbook_is_read_by_its_content(tmp_path):
    path = write(tmp_path, "Matrícula\nAB1\n", name="conteo.xlsx")
    assert [s.serial for s in read_count(path)] == ["AB1"]


# -- headers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "No. de serie",
        "NO_DE_SERIE",
        "Número de serie",
        "numero de serie",
        "MATRICULA",
        "Serial Number",
    ],
)
def test_serial_headers_match_without_case_accents_spaces_dots_or_underscores(tmp_path, header):
    path = write(tmp_path, f"{header}\nAB1\n")
    with open_sheet(path, COUNT_SHEET) as sheet:
        assert sheet.columns == {"serial": 0}


def test_fold_header_drops_case_accents_spaces_dots_and_underscores():
    assert fold_header(" No._de  Séríe ") == "nodeserie"


def test_unknown_columns_are_kept_as_notes(tmp_path):
    path = write(tmp_path, "Serie,Marca,Calibre,Tipo,Color,\nAB1,Glock,9mm,pistola,negro,x\n")
    with open_sheet(path, REGISTRY_SHEET) as sheet:
        (record,) = sheet.records()
    assert record.values["serial"] == "AB1"
    assert record.notes == {"Color": "negro", "column 6": "x"}
    assert record.line == 2


def test_cells_beyond_the_header_are_kept_as_notes(tmp_path):
    path = write(tmp_path, "Matrícula\nAB1,sobrante\n")
    with open_sheet(path, COUNT_SHEET) as sheet:
        (record,) = sheet.records()
    assert record.notes == {"column 2": "sobrante"}


def test_a_missing_required_column_is_named_with_its_accepted_headers(tmp_path):
    path = write(tmp_path, "Serie,Marca,Tipo\nAB1,Glock,pistola\n")
    with pytest.raises(ValidationFailed) as caught:
        list(read_registry(path))
    message = caught.value.message
    assert "missing required column 'calibre'" in message
    assert "caliber" in message and "cal." in message
    assert str(path) in message


def test_two_columns_with_the_same_header_are_refused(tmp_path):
    path = write(tmp_path, "Matrícula,Ubicación,ubicacion\nAB1,a,b\n")
    with pytest.raises(ValidationFailed, match="columns 2 and 3 have the same header"):
        open_sheet(path, COUNT_SHEET)


def test_two_headers_for_one_field_are_refused(tmp_path):
    path = write(tmp_path, "Serie,Matrícula\nAB1,AB1\n")
    with pytest.raises(ValidationFailed, match="both mean serial"):
        open_sheet(path, COUNT_SHEET)


# -- refusals ---------------------------------------------------------------------------


def test_an_empty_file_is_refused(tmp_path):
    with pytest.raises(ValidationFailed, match="empty"):
        open_sheet(write(tmp_path, ""), COUNT_SHEET)


def test_a_file_of_blank_lines_is_refused(tmp_path):
    with pytest.raises(ValidationFailed, match="empty"):
        open_sheet(write(tmp_path, "\n \n,,\n"), COUNT_SHEET)


def test_a_nul_byte_is_refused_with_its_line(tmp_path):
    path = tmp_path / "bin.csv"
    path.write_bytes(b"Matricula\nAB1\nAB\x002\n")
    with pytest.raises(ValidationFailed, match="line 3.*NUL") as caught:
        open_sheet(path, COUNT_SHEET)
    assert caught.value.details["line"] == 3


def test_an_old_xls_workbook_is_refused_with_advice(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    with pytest.raises(ValidationFailed, match="save it as .xlsx or .csv"):
        open_sheet(path, COUNT_SHEET)


def test_an_unknown_status_names_the_file_line_and_column(tmp_path):
    path = write(
        tmp_path,
        REGISTRY_HEADER + "\nAB1,Glock,9mm,pistola,en armería,,\nAB2,Glock,9mm,pistola,perdida,,\n",
    )
    with pytest.raises(ValidationFailed) as caught:
        list(read_registry(path))
    assert caught.value.details == {"file": str(path), "line": 3, "column": "Estatus"}
    assert f"{path}, line 3, column 'Estatus': unknown status 'perdida'" in caught.value.message


def test_an_empty_required_cell_names_its_column(tmp_path):
    path = write(tmp_path, "Serie,Marca,Calibre,Tipo\nAB1,,9mm,pistola\n")
    with pytest.raises(ValidationFailed, match="line 2, column 'Marca': make is required"):
        list(read_registry(path))


def test_a_serial_without_letters_or_digits_is_refused(tmp_path):
    path = write(tmp_path, "Matrícula\n--\n")
    with pytest.raises(ValidationFailed, match="no letters or digits"):
        list(read_count(path))


def test_errors_can_be_collected_while_the_good_rows_are_read(tmp_path):
    path = write(
        tmp_path,
        REGISTRY_HEADER
        + "\nAB1,Glock,9mm,pistola,,,\nAB2,Glock,9mm,cañón,,,\nAB3,Glock,9mm,pistola,xx,,\nAB4,Glock,9mm,fusil,,,\n",
    )
    errors: list[ValidationFailed] = []
    entries = list(read_registry(path, errors=errors))
    assert [e.serial for e in entries] == ["AB1", "AB4"]
    assert [(e.details["line"], e.details["column"]) for e in errors] == [
        (3, "Tipo"),
        (4, "Estatus"),
    ]


def test_an_empty_status_means_in_storage(tmp_path):
    path = write(tmp_path, REGISTRY_HEADER + "\nAB1,Glock,9mm,pistola, ,,\n")
    assert next(read_registry(path)).status is FirearmStatus.IN_STORAGE


def test_details_can_be_left_out_of_entries_but_are_still_checked(tmp_path):
    path = write(
        tmp_path,
        "Serie,Marca,Modelo,Calibre,Tipo\nAB1,Glock,17,9mm,pistola\nAB2,Glock,17,9mm,tanque\n",
    )
    reader = read_registry(path, details=False)
    entry = next(reader)
    assert (entry.model, entry.calibre, entry.kind) == (None, None, None)
    with pytest.raises(ValidationFailed, match="unknown kind 'tanque'"):
        next(reader)


# -- dates ------------------------------------------------------------------------------


def test_count_dates_are_day_first_by_default(tmp_path):
    path = write(tmp_path, "Matrícula,Fecha y hora\nAB1,07/03/2024 14:30\nAB2,2024-03-08\nAB3,\n")
    scans = list(read_count(path))
    assert scans[0].observed_at == datetime(2024, 3, 7, 14, 30)
    assert scans[1].observed_at == date(2024, 3, 8)
    assert scans[2].observed_at is None


def test_month_first_switches_the_order(tmp_path):
    path = write(tmp_path, "Matrícula,Hora\nAB1,03/07/2024\n")
    assert next(read_count(path, month_first=True)).observed_at == date(2024, 3, 7)


def test_an_impossible_date_names_its_line_and_column(tmp_path):
    path = write(tmp_path, "Matrícula,Hora\nAB1,31/02/2024\n")
    with pytest.raises(ValidationFailed, match="line 2, column 'Hora'.*day is out of range"):
        list(read_count(path))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2024-03-07", date(2024, 3, 7)),
        ("2024-03-07T14:30:00", datetime(2024, 3, 7, 14, 30)),
        ("07/03/2024", date(2024, 3, 7)),
        ("7-3-24", date(2024, 3, 7)),
        ("07.03.2024 2:30 p.m.", datetime(2024, 3, 7, 14, 30)),
        ("14:30", time(14, 30)),
        ("10:05:09 am", time(10, 5, 9)),
    ],
)
def test_dates_and_times_are_read_as_people_type_them(text, value):
    assert parse_moment(text) == value


def test_parse_date_keeps_the_date_of_a_date_and_time_and_refuses_a_time():
    assert parse_date("07/03/2024 10:00") == date(2024, 3, 7)
    with pytest.raises(DateError):
        parse_date("10:00")
    with pytest.raises(DateError, match="dd/mm/yyyy"):
        parse_date("marzo")


# -- XLSX -------------------------------------------------------------------------------


def test_an_xlsx_registry_is_read_from_its_first_sheet(tmp_path):
    path = xlsx(
        tmp_path,
        [
            ["No. de serie", "Marca", "Calibre", "Tipo", "Estatus"],
            ["AB1", "Glock", "9mm", "Pistola", "Asignada"],
        ],
        extra={"Otra": [["nada"]]},
    )
    (entry,) = read_registry(path)
    assert (entry.serial, entry.status) == ("AB1", FirearmStatus.ISSUED)


def test_the_xlsx_header_is_the_first_non_empty_row_and_lines_are_sheet_rows(tmp_path):
    path = xlsx(
        tmp_path,
        [[], ["Inventario 2024"], [], ["Matrícula", "Ubicación"], ["AB1", "A"], [], ["AB2", "B"]],
    )
    # "Inventario 2024" is not a count header: a title row above the header is refused.
    with pytest.raises(ValidationFailed, match="line 2: missing required column 'serial'"):
        list(read_count(path))
    path = xlsx(
        tmp_path,
        [[], [], ["Matrícula", "Ubicación"], ["AB1", "A"], [], ["AB2", "B"]],
        name="b.xlsx",
    )
    assert [(s.serial, s.order) for s in read_count(path)] == [("AB1", 4), ("AB2", 6)]


def test_a_named_sheet_is_read_and_a_missing_one_is_named(tmp_path):
    path = xlsx(tmp_path, [["nada"]], extra={"Conteo": [["Matrícula"], ["AB1"]]})
    assert [s.serial for s in read_count(path, sheet_name="Conteo")] == ["AB1"]
    with pytest.raises(ValidationFailed, match="no sheet named 'Revista'.*'Conteo'"):
        list(read_count(path, sheet_name="Revista"))


def test_xlsx_serials_stored_as_text_keep_their_leading_zeros(tmp_path):
    path = xlsx(tmp_path, [["Matrícula"], ["00123"], [45678], [12.0]])
    assert [s.serial for s in read_count(path)] == ["00123", "45678", "12"]


def test_an_xlsx_number_shown_zero_padded_keeps_its_padding(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Matrícula"])
    sheet.append([123])
    sheet["A2"].number_format = "00000"
    path = tmp_path / "pad.xlsx"
    book.save(path)
    assert [s.serial for s in read_count(path)] == ["00123"]


def test_xlsx_date_cells_are_dates_whatever_the_day_month_order(tmp_path):
    path = xlsx(
        tmp_path,
        [
            ["Matrícula", "Fecha y hora"],
            ["AB1", datetime(2024, 3, 7, 14, 30)],
            ["AB2", date(2024, 3, 8)],
            ["AB3", "07/03/2024"],
        ],
    )
    scans = list(read_count(path, month_first=True))
    assert scans[0].observed_at == datetime(2024, 3, 7, 14, 30)
    assert scans[1].observed_at == date(2024, 3, 8)
    assert scans[2].observed_at == date(2024, 7, 3)


def test_a_damaged_workbook_is_refused(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"garbage" * 20)
    with pytest.raises(ValidationFailed, match="not a readable .xlsx workbook"):
        open_sheet(path, COUNT_SHEET)


def test_an_xlsx_error_names_the_sheet_row_and_header(tmp_path):
    path = xlsx(
        tmp_path,
        [
            ["Serie", "Marca", "Calibre", "Tipo"],
            ["AB1", "Glock", "9mm", "pistola"],
            ["AB2", "Glock", "9mm", "tanque"],
        ],
    )
    with pytest.raises(ValidationFailed, match="line 3, column 'Tipo': unknown kind 'tanque'"):
        list(read_registry(path))


# -- large plain CSV files: the columnar fast path --------------------------------------


def _read_both(monkeypatch, reader, path: Path, **kw):  # type: ignore[no-untyped-def]
    """What ``reader`` gives (rows, or the error message) by the fast path and row by row."""
    results = []
    for minimum in (0, 1 << 62):
        monkeypatch.setattr(columnar, "MIN_BYTES", minimum)
        try:
            results.append(list(reader(path, **kw)))
        except ValidationFailed as exc:
            results.append(exc.message)
    return results


FAST_REGISTRIES = [
    REGISTRY_HEADER + "\r\nAB-1,Glock,9mm,Pistola,En armería,Armería 1,\r\n"
    "ab 2 ,  GLOCK ,9mm, pistola ,ASIGNADA, armería 1 ,P-0142\r\nAB-3,Colt,.38,revólver,,,\r\n",
    "\n\n"
    + REGISTRY_HEADER
    + ",,\nAB1,Glock,9mm,pistola,,,,,\n,,,,,,,,\nAB2,Colt,.38,fusil,baja,,,,\n\n",
    REGISTRY_HEADER.replace(",", ";")
    + "\nAB1;Glock;9mm;pistola;;;\r\nAB2;Glock;9mm;pistola;;;\rAB3;x;y;fusil;;;",
    "\ufeff" + REGISTRY_HEADER + "\nAB1,Glock,9mm,pistola,,,\n  \t ,,,,,,\n",
    REGISTRY_HEADER + "\nAB1,Glock,9mm,pistola,,,\nAB2,Glock,9mm,pistola,,\n",  # a short row
    REGISTRY_HEADER + "\nAB1,Glock,9mm,pistola,,,\nAB2,Glock,9mm,pistola,,,,extra\n",
    REGISTRY_HEADER + "\nAB1,Glock,9mm,pistola,,,\nAB2,,9mm,pistola,,,\n",  # make is required
    REGISTRY_HEADER + "\nAB1,Glock,9mm,pistola,,,\n,,,,,,P-1\n",  # a serial is required
    REGISTRY_HEADER + "\nAB1,Glock,9mm,pistola,,,\nAB2,Glock,9mm,  ,,,\n",  # a kind of spaces
    REGISTRY_HEADER + "\nAB1,Glock,9mm,pistola,perdida,,\n",
    REGISTRY_HEADER + "\nAB1,Glock,9mm,tanque,,,\n",
    REGISTRY_HEADER + "\n-/-,Glock,9mm,pistola,,,\n",
    REGISTRY_HEADER + "\n-AB1,Glock,9mm,pistola,,,\n",
    'Matrícula,Marca,Calibre,Tipo\nAB1,"Glock",9mm,pistola\n',  # quoted: row by row
    "Matrícula,Marca,Calibre,Tipo\nAB1,Glöck,9mm,pistola\n".encode().decode("latin-1"),
]


@pytest.mark.parametrize("text", FAST_REGISTRIES)
@pytest.mark.parametrize("details", [True, False])
def test_the_fast_path_reads_a_registry_exactly_as_row_by_row(tmp_path, monkeypatch, text, details):
    path = write(tmp_path, text)
    fast, slow = _read_both(monkeypatch, read_registry, path, details=details)
    assert fast == slow


FAST_COUNTS = [
    "Matrícula,Ubicación,Portador,Marca,Fecha y hora,Observaciones\r\n"
    "AB-1,Armería 1,,GLOCK,07/03/2024 10:20,\r\nab1, armería 1 , P-1 ,,, repetida \r\n"
    "\r\n,,,,,\r\nZZ-9,,,,2024-03-07,\r\n",
    "Serie\nAB1\n\n  \nAB2\n",
    "Serie;Hora\nAB1;10:20\nAB2;25:99\n",  # an impossible time
    "Serie,Ubicación\nAB1,A\n,B\n",  # a serial is required
    "Serie,Ubicación\nAB1,A\n..,B\n",
]


@pytest.mark.parametrize("text", FAST_COUNTS)
@pytest.mark.parametrize("month_first", [True, False])
def test_the_fast_path_reads_a_count_exactly_as_row_by_row(
    tmp_path, monkeypatch, text, month_first
):
    path = write(tmp_path, text)
    fast, slow = _read_both(monkeypatch, read_count, path, month_first=month_first)
    assert fast == slow


cells = st.text(alphabet="aZ1-_ .\t;Ñé", max_size=4)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.lists(
            st.one_of(cells, st.sampled_from(["pistola", "fusil", "asignada", "baja", "07/03/24"])),
            min_size=0,
            max_size=8,
        ),
        max_size=8,
    ),
    delimiter=st.sampled_from([",", ";"]),
    end=st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_any_unquoted_file_reads_the_same_by_either_path(
    tmp_path, monkeypatch, rows, delimiter, end
):
    header = ["Serie", "Marca", "Calibre", "Tipo", "Estatus", "Ubicación", "Hora"]
    text = end.join(delimiter.join(row) for row in [header, *rows]) + end
    path = write(tmp_path, text)
    fast, slow = _read_both(monkeypatch, read_registry, path)
    assert fast == slow
    fast, slow = _read_both(monkeypatch, read_count, path)
    assert fast == slow


def test_the_separators_are_whitespace_and_the_usual_marks():
    import sys

    spaces = {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}
    assert set(SEPARATORS) == spaces | set("-./\\_")


@given(st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=8))
def test_every_spelling_of_a_serial_lands_in_the_same_shard(serial):
    assume(serial_key(serial))
    spellings = [serial, serial.lower(), serial.upper(), f" {serial}-", serial_key(serial)]
    for count in (2, 3):
        parts = {i for i in range(count) for s in spellings if Shard(i, count).holds(s)}
        assert len(parts) == 1
        assert Shard(0, count).mask(spellings) == [Shard(0, count).holds(s) for s in spellings]


@pytest.mark.parametrize("minimum", [0, 1 << 62])
def test_the_shards_of_a_sheet_are_its_rows_split_by_serial(tmp_path, monkeypatch, minimum):
    monkeypatch.setattr(columnar, "MIN_BYTES", minimum)
    rows = "".join(f"AB-{n},Glock,9mm,pistola,,,\n" for n in range(40))
    path = write(tmp_path, REGISTRY_HEADER + "\n" + rows + ",,,,,,\nab41,Colt,.38,fusil,,,\n")
    whole = list(read_registry(path))
    parts = [list(read_registry(path, shard=Shard(i, 2))) for i in range(2)]
    assert all(parts)
    assert sorted(parts[0] + parts[1], key=lambda e: e.serial) == sorted(
        whole, key=lambda e: e.serial
    )
    counts = [list(read_count(path, shard=Shard(i, 2))) for i in range(2)]
    assert sorted(s.order for s in counts[0] + counts[1]) == [s.order for s in read_count(path)]


@pytest.mark.parametrize("minimum", [0, 1 << 62])
def test_a_prepared_sheet_gives_its_rows_again_and_by_shard(tmp_path, monkeypatch, minimum):
    monkeypatch.setattr(columnar, "MIN_BYTES", minimum)
    rows = "".join(f"AB-{n},Glock,9mm,pistola,asignada,,P-{n}\n" for n in range(30))
    path = write(tmp_path, REGISTRY_HEADER + "\n" + rows + "\n,,,,,,\n")
    prepared = prepare_registry(path, details=False)
    whole = list(read_registry(path, details=False))
    assert list(prepared.rows()) == list(prepared.rows()) == whole
    assert list(prepared.rows(Shard(1, 2))) == list(
        read_registry(path, details=False, shard=Shard(1, 2))
    )
    scans = prepare_count(path)
    assert list(scans.rows(Shard(0, 2))) == list(read_count(path, shard=Shard(0, 2)))


def test_a_prepared_sheet_refuses_a_bad_header_at_once_and_a_bad_row_when_read(tmp_path):
    with pytest.raises(ValidationFailed, match="missing required column"):
        prepare_count(write(tmp_path, "Ubicación\nA\n"))
    prepared = prepare_registry(write(tmp_path, REGISTRY_HEADER + "\nAB1,Glock,9mm,tanque,,,\n"))
    with pytest.raises(ValidationFailed, match="line 2, column 'Tipo': unknown kind 'tanque'"):
        list(prepared.rows())
