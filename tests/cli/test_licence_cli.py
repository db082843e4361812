"""``resguardo licence attach|detach|report`` as an armorer and a chief use them: the
state's licence is found by the agency's armorer (it used to answer 'licence not found'),
another agency's weapon is not, and the report and Modelo 4 files are written."""

from __future__ import annotations

import json

from openpyxl import load_workbook


def test_attach_detach_and_the_papers_from_the_command_line(cli, tmp_path):
    made = cli("--as", "admin", "licence", "add", "LOC-SSP-1", "--holder", "SSP",
               "--agency", "MUN1", "--agency", "MUN2", "--valid-from", "2025-01-01",
               "--valid-to", "2030-12-31")
    assert made.exit_code == 0, made.output
    listed = cli("--as", "armero1", "licence", "list", "--json")
    assert [r["number"] for r in json.loads(listed.stdout)] == ["LOC-SSP-1"]
    done = cli("--as", "armero1", "licence", "attach", "LOC-SSP-1", "--firearm", "GLK-A100",
               "--reason", "Manifestada, oficio ZM15/LOC/1", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["type"] == "licence.firearm_attached"
    # the insider from MUN2: MUN1's weapon does not exist for him
    stolen = cli("--as", "armero2", "licence", "attach", "LOC-SSP-1", "--firearm", "GLK-A200",
                 "--reason", "mía")
    assert stolen.exit_code == 1 and "not found" in stolen.stderr
    both = cli("--as", "armero1", "licence", "attach", "LOC-SSP-1", "--reason", "x")
    assert both.exit_code == 2 and "--firearm SERIAL or --officer BADGE" in both.stderr
    officer = cli("--as", "jefe1", "licence", "attach", "LOC-SSP-1", "--officer", "P1",
                  "--reason", "Alta de personal")
    assert officer.exit_code == 0 and "Officer P1 is on licence LOC-SSP-1" in officer.stdout
    off = cli("--as", "jefe1", "licence", "detach", "--officer", "P1", "--reason", "Baja")
    assert off.exit_code == 0, off.output
    report = tmp_path / "informe.xlsx"
    out = cli("--as", "supervisor", "licence", "report", "LOC-SSP-1", "--format", "xlsx",
              "--out", str(report))
    assert out.exit_code == 0, out.output
    arms = load_workbook(report)["Armamento"]
    assert [r[7] for r in arms.iter_rows(min_row=2, values_only=True)] == ["GLK-A100"]
    modelo4 = tmp_path / "modelo4.xlsx"
    out = cli("--as", "supervisor", "export", "licence", "LOC-SSP-1", "--from", "2025-01-01",
              "--to", "2025-12-31", "--format", "xlsx", "--out", str(modelo4))
    assert out.exit_code == 0, out.output
    people = load_workbook(modelo4)["Modelo 4 personal"]
    rows = list(people.iter_rows(min_row=9, values_only=True))
    assert [(r[1], r[6], r[8]) for r in rows] == [
        ("ALTA", "P1", "manifestada en la licencia"), ("BAJA", "P1", "retirada de la licencia")]
