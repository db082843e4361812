"""The demonstration deployment's LOC: its weapons and officers sit on LOC-JAL-0042, one
weapon bought 45 days ago is not declared (the 30-day alert shows it), a recruit carries
with no credential folio (its alert shows), and the Modelo 4 and the periodic report of
the licence come out of it readable."""

from __future__ import annotations

from datetime import timedelta

from openpyxl import load_workbook

from resguardo.reports import licence as licence_report
from resguardo.reports.spreadsheets import write_xlsx
from resguardo.services import alerts, exports, licences

DEADLINES = {"loss_deadline": timedelta(hours=24), "shift_length": timedelta(hours=14)}


def test_the_demo_loc_its_alerts_and_its_papers(demo_app, tmp_path):
    app, result = demo_app
    undeclared = next(n for n in result.notes if "not declared" in n).split("Glock ")[1][:7]
    found = {}
    with app.read("jefe") as uow:
        for a in alerts.open_alerts(uow, **DEADLINES):
            found.setdefault(a.kind.value, []).append(a.subject)
    assert found["undeclared_weapon"] == [f"Glock {undeclared}"]
    assert len(found["no_credential_folio"]) == 1
    with app.read("supervisor") as uow:
        report = licences.licence_report(uow, "LOC-JAL-0042")
        today = uow.now().date()
        moves = exports.licence_movements(uow, "LOC-JAL-0042", today - timedelta(days=400),
                                          today)
        # the Sonora agency's weapons and officers are on its own licence, LOC-SON-0017
        sonora = uow.conn.exec_driver_sql(
            "SELECT id FROM organizations WHERE code = 'MUN-HMO'").scalar_one()
        sonora_weapons = uow.conn.exec_driver_sql(
            "SELECT count(*) FROM firearms WHERE agency_id = ?", (sonora,)).scalar_one()
        sonora_officers = uow.conn.exec_driver_sql(
            "SELECT count(*) FROM officers WHERE agency_id = ?", (sonora,)).scalar_one()
    # every Jalisco weapon of the demo but the undeclared one and those lost, stolen or gone
    assert sonora_weapons and sonora_officers
    assert len(report.weapons) == result.firearms - sonora_weapons + 2 - 1 - 4
    assert len(report.officers) == result.officers - sonora_officers + 1
    assert report.agencies == ["MUN-GDL", "MUN-TLQ", "MUN-TON", "MUN-ZAP"]
    assert [u["serial"] for u in report.undeclared] == [undeclared]
    # the recovered weapon is one removal (its loss) and one addition (its release)
    changes = [m.change for m in moves.weapons_added]
    assert changes.count("released") == 1 and changes.count("attached") == 1
    assert "recovered" not in changes
    write_xlsx(tmp_path / "modelo4.xlsx", licence_report.modelo4_tables(moves))
    sheet = load_workbook(tmp_path / "modelo4.xlsx")["Modelo 4 armamento"]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[0][0] == "MODELO No. 4 — ALTAS Y BAJAS DE ARMAMENTO"
    assert {r[1] for r in rows[8:]} == {"ALTA", "BAJA"}
    licence_report.write_report_pdf(report, tmp_path / "informe.pdf")
    from pypdf import PdfReader
    pages = PdfReader(tmp_path / "informe.pdf").pages
    assert "INFORME PERIÓDICO" in pages[0].extract_text()
    assert undeclared in pages[-1].extract_text()
    app.engine.dispose()
