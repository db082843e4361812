"""Paperwork dated on the agency's own calendar, not UTC's, on SQLite and PostgreSQL.

Each agency has its time zone (``org place``): Guadalajara keeps Mexico City's hour
(UTC-6), Hermosillo keeps UTC-7 all year. In the evening the UTC day is already the
next one: 18:07 on 6 December in Guadalajara is 00:07 UTC on the 7th, 17:50 in Hermosillo
is 00:50 UTC on the 7th. The Modelo 4, the periodic licence report, a revista's planned
date and its deadline to present weapons on duty all speak of the agency's day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from resguardo.domain.errors import ValidationFailed
from resguardo.reports import licence as licence_report
from resguardo.reports.spreadsheets import write_xlsx
from resguardo.services import custody, exports, inspections, licences, registry

from world import do, look

FAR = date(2030, 1, 1)
DEC6, DEC7 = date(2026, 12, 6), date(2026, 12, 7)
GDL_EVENING = datetime(2026, 12, 7, 0, 7, tzinfo=UTC)     # 18:07 on the 6th in Guadalajara
HMO_LATE = datetime(2026, 12, 7, 6, 30, tzinfo=UTC)       # 23:30 on the 6th in Hermosillo


@pytest.fixture
def app(world, clock):  # type: ignore[no-untyped-def]
    """MUN1 in Guadalajara, MUN2 in Hermosillo; the state's licence covers both."""
    clock.now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    do(world, "admin", registry.set_place, "SSP", time_zone="America/Mexico_City")
    do(world, "admin", registry.set_place, "MUN1", time_zone="America/Mexico_City",
       city="Guadalajara, Jalisco")
    do(world, "admin", registry.set_place, "MUN2", time_zone="America/Hermosillo",
       city="Hermosillo, Sonora")
    do(world, "admin", registry.add_licence, "LOC-SSP-1", "SSP", ["MUN1", "MUN2"],
       date(2025, 1, 1), FAR)
    return world


def movements(app, start: date, end: date):  # type: ignore[no-untyped-def]
    return look(app, "supervisor", exports.licence_movements, "LOC-SSP-1", start, end)


def test_modelo_4_dates_each_row_on_its_agencys_calendar(app, clock, tmp_path):
    clock.now = GDL_EVENING
    do(app, "armero1", registry.attach_firearm, "GLK-A100", "LOC-SSP-1", "Manifestada")
    clock.now = HMO_LATE  # 23:30 on the last day of the period in Hermosillo
    do(app, "armero2", registry.attach_firearm, "BER-B100", "LOC-SSP-1", "Manifestada")
    # both happened on the 6th where they happened: in the period that ends on the 6th ...
    moves = movements(app, date(2026, 12, 1), DEC6)
    assert [(m.fields["serial"], m.at.date()) for m in moves.weapons_added] == [
        ("GLK-A100", DEC6), ("BER-B100", DEC6)]
    # ... and not in the one that starts on the 7th (UTC's day for both)
    assert movements(app, DEC7, date(2026, 12, 31)).weapons_added == []
    assert movements(app, DEC7, date.max).weapons_added == []  # to the end of time: no crash
    # the workbook's Fecha says the 6th, so does the sheet to sign, issued in local time
    write_xlsx(tmp_path / "m4.xlsx", licence_report.modelo4_tables(moves))
    arms = [[c.value for c in row]
            for row in load_workbook(tmp_path / "m4.xlsx")["Modelo 4 armamento"].iter_rows()]
    assert [(r[8], r[2].date()) for r in arms[8:]] == [("GLK-A100", DEC6), ("BER-B100", DEC6)]
    licence_report.write_pdf(moves, tmp_path / "m4.pdf")
    text = " ".join(p.extract_text() for p in PdfReader(tmp_path / "m4.pdf").pages)
    # issued at 23:30 in Hermosillo, 00:30 of the 7th in Mexico City: the holder's clock;
    # the 7th is nowhere else on the sheet
    assert "Emitido: 2026-12-07 00:30 (America/Mexico_City, UTC-06:00)" in text
    assert text.count("2026-12-07") == 1 and text.count("2026-12-06") == 3  # period, rows
    assert "00:30 UTC" not in text


def test_the_periodic_report_cuts_on_the_holders_day_and_says_its_hour(app, clock, tmp_path):
    clock.now = GDL_EVENING
    report = look(app, "supervisor", licences.licence_report, "LOC-SSP-1")
    assert report.as_of == DEC6
    write_xlsx(tmp_path / "inf.xlsx", licence_report.report_tables(report))
    heading = [c.value for c in next(load_workbook(tmp_path / "inf.xlsx")["Resumen"]
                                     .iter_cols(max_col=1))]
    assert "Fecha de corte: 2026-12-06" in heading
    licence_report.write_report_pdf(report, tmp_path / "inf.pdf")
    text = PdfReader(tmp_path / "inf.pdf").pages[0].extract_text()
    assert "Fecha de corte: 2026-12-06" in text
    assert "Emitido: 2026-12-06 18:07 (America/Mexico_City, UTC-06:00)" in text


def test_a_revista_may_be_planned_for_the_agencys_today_in_its_evening(app, clock):
    clock.now = datetime(2026, 12, 7, 0, 50, tzinfo=UTC)  # 17:50 on the 6th in Hermosillo
    assert do(app, "inspector", inspections.plan, "MUN2", DEC6).position
    with pytest.raises(ValidationFailed, match="in the past"):
        do(app, "inspector", inspections.plan, "MUN2", date(2026, 12, 5))
    # at 23:30 in Hermosillo it is already the 7th in Guadalajara: the inspected agency's day
    clock.now = HMO_LATE
    assert do(app, "inspector", inspections.plan, "MUN2", DEC6).position
    with pytest.raises(ValidationFailed, match="in the past"):
        do(app, "inspector", inspections.plan, "MUN1", DEC6)


def test_a_deadline_given_as_a_day_ends_that_night_in_the_agencys_time(app, clock):
    clock.now = datetime(2026, 12, 6, 17, 0, tzinfo=UTC)
    do(app, "armero2", custody.issue, "BER-B100", "Q1")
    iid = do(app, "inspector", inspections.plan, "MUN2", DEC6).position
    do(app, "inspector", inspections.open_, iid)
    result = do(app, "inspector", inspections.close, iid, present_by=date(2026, 12, 8))
    # the end of the 8th in Hermosillo is 06:59:59 UTC on the 9th, not 23:59:59 UTC on the 8th
    assert result["present_by"] == "2026-12-09T06:59:59.000000Z"
    on_duty = next(f for f in result["findings"] if f.get("serial") == "BER-B100")
    assert on_duty["kind"] == "to_present"
    clock.now = datetime(2026, 12, 9, 6, 0, tzinfo=UTC)  # 23:00 on the 8th in Hermosillo
    found = do(app, "inspector", inspections.show, iid)["findings"]
    assert next(f for f in found if f.get("serial") == "BER-B100")["kind"] == "to_present"
    # a day already over where the agency is is refused, naming the field
    clock.now = datetime(2026, 12, 9, 7, 30, tzinfo=UTC)  # 00:30 on the 9th in Hermosillo
    iid = do(app, "inspector", inspections.plan, "MUN2", date(2026, 12, 9)).position
    do(app, "inspector", inspections.open_, iid)
    with pytest.raises(ValidationFailed, match="after the closing"):
        do(app, "inspector", inspections.close, iid, present_by=date(2026, 12, 8))
    # the last day there is, west of UTC, would end in year 10000: refused, naming the field
    with pytest.raises(ValidationFailed, match="out of range") as no:
        do(app, "inspector", inspections.close, iid, present_by=date(9999, 12, 31))
    assert no.value.details["field"] == "present_by"
