"""``resguardo import`` and ``resguardo export`` as a person or a script uses them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from rich.console import Console
from typer.testing import CliRunner

from resguardo.cli import context
from resguardo.cli import imports as import_cli
from resguardo.cli.main import app

runner = CliRunner()

GOOD = "Serie;Marca;Calibre;Tipo;Ubicación\r\nC-1;Glock;9mm;pistola;ARM1\r\nC-2;Colt;.38 Special;revólver;ARM2\r\n"
BAD = GOOD + "C-3;Glock;9mm;pistolón;ARM1\r\nC-4;Glock;;pistola;ARM1\r\n"


@pytest.fixture
def cli(world, monkeypatch):  # type: ignore[no-untyped-def]
    context.set_deployment(world)
    monkeypatch.delenv("RESGUARDO_USER", raising=False)

    def invoke(*args: str | Path):  # type: ignore[no-untyped-def]
        return runner.invoke(app, [str(a) for a in args])
    yield invoke
    context.set_deployment(None)


def file(tmp_path: Path, text: str, name: str = "inventario.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def serials(world) -> set[str]:  # type: ignore[no-untyped-def]
    with world.read(None) as uow:
        return {f.serial for f in uow.repo.firearms(limit=1000).items}


def test_a_good_file_is_imported_and_reported_as_json_quietly(cli, world, tmp_path):
    result = cli("--as", "armero1", "import", "firearms", file(tmp_path, GOOD), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["imported"], report["rejected"], report["committed"]) == (2, 0, True)
    assert result.stderr == ""  # no progress bar when not on a terminal
    assert {"C-1", "C-2"} <= serials(world)


def test_all_or_nothing_exits_one_and_names_each_line_and_column(cli, world, tmp_path):
    result = cli("--as", "armero1", "import", "firearms", file(tmp_path, BAD))
    assert result.exit_code == 1
    assert "inventario.csv, línea 4, columna D (Tipo): tipo desconocido 'pistolón'" in result.stderr
    assert "inventario.csv, línea 5, columna C (Calibre): falta este dato obligatorio" in result.stderr
    assert "No se importó nada" in result.stderr
    assert not {"C-1", "C-2"} & serials(world)
    result = cli("--as", "armero1", "import", "firearms", file(tmp_path, BAD), "--lang", "en",
                 "--json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert [(p["line"], p["column_letter"], p["code"]) for p in problems] == [
        (4, "D", "unknown_kind"), (5, "C", "required")]


def test_rejected_rows_are_saved_fixed_and_imported_again(cli, world, tmp_path):
    rejects = tmp_path / "rechazos.csv"
    result = cli("--as", "armero1", "import", "firearms", file(tmp_path, BAD), "--skip-invalid",
                 "--rejects", rejects)
    assert result.exit_code == 0, result.output
    assert {"C-1", "C-2"} <= serials(world)
    with open(rejects, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["Serie", "Marca", "Calibre", "Tipo", "Ubicación", "error"]
    assert rows[1][:5] == ["C-3", "Glock", "9mm", "pistolón", "ARM1"]
    assert rows[1][5].startswith("inventario.csv, línea 4, columna D (Tipo)")
    rows[1][3] = "pistola"
    rows[2][2] = "9mm"
    with open(rejects, "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)
    result = cli("--as", "armero1", "import", "firearms", rejects, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["imported"] == 2 and report["mapping"]["error"] == "ignore"
    with world.read(None) as uow:
        entries = [e for e in uow.repo.iter_events(report["entry"] - 2)
                   if e.type == "firearm.registered"]
    assert all("notes" not in e.payload for e in entries)  # the error column is not kept


def test_a_dry_run_imports_nothing(cli, world, tmp_path):
    result = cli("--as", "armero1", "import", "firearms", file(tmp_path, GOOD), "--dry-run")
    assert result.exit_code == 0 and "Simulación" in result.stdout
    assert not {"C-1", "C-2"} & serials(world)


def test_a_column_can_be_mapped_by_hand(cli, world, tmp_path):
    text = "Arma;Marca;Calibre;Tipo\r\nM-1;Glock;9mm;pistola\r\n"
    result = cli("--as", "armero1", "import", "firearms", file(tmp_path, text), "--map",
                 "Arma=serial", "--location", "ARM1")
    assert result.exit_code == 0, result.output
    assert "M-1" in serials(world)
    result = cli("--as", "armero1", "import", "firearms", file(tmp_path, text), "--map", "Arma")
    assert result.exit_code == 2


def test_a_hostile_file_exits_one_with_one_line(cli, tmp_path):
    path = tmp_path / "inventario.xlsx"
    path.write_text(GOOD, encoding="utf-8")
    result = cli("--as", "armero1", "import", "firearms", path)
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "named like an Excel workbook" in lines[0]


def test_officers_and_locations_from_the_command_line(cli, world, tmp_path):
    result = cli("--as", "jefe1", "import", "locations",
                 file(tmp_path, "Código,Nombre,Tipo\nBOV1,Bóveda,bóveda\n", "u.csv"))
    assert result.exit_code == 0, result.output
    result = cli("--as", "jefe1", "import", "officers", file(
        tmp_path, "Placa,Nombre,Estatus,Vigencia de credencial,Vigencia de evaluación\n"
                  "P20,Ana Gil,activo,31/12/2030,30/06/2030\nP21,Luis Paz,suspendido,,\n",
        "e.csv"), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["imported"] == 2
    with world.read(None) as uow:
        mun1 = uow.repo.org("MUN1").id
        assert uow.repo.officer(mun1, "P21").status.value == "suspended"
        assert str(uow.repo.officer(mun1, "P20").qualification_expiry) == "2030-06-30"


def test_the_progress_bar_shows_rows_per_second_on_a_terminal(monkeypatch):
    screen = io.StringIO()
    monkeypatch.setattr(import_cli, "err_console", Console(file=screen, force_terminal=True,
                                                          width=120))
    with import_cli._progress(False) as advance:
        assert advance is not None
        advance(5000, 50, 100)
    assert "rows/s" in screen.getvalue() and "5,000 rows" in screen.getvalue()
    with import_cli._progress(True) as quiet:
        assert quiet is None


# --- export ----------------------------------------------------------------------------------


def test_export_firearms_as_csv_json_and_xlsx(cli, tmp_path):
    result = cli("--as", "armero1", "export", "firearms")
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0][:3] == ["Corporación", "No. de serie", "Marca"]
    assert rows[1][:2] == ["MUN1", "GLK-A100"] and rows[1][7] == "en armería"
    result = cli("--as", "armero1", "export", "firearms", "--format", "json", "--lang", "en")
    items = json.loads(result.stdout)
    assert items[0]["status"] == "in_storage" and items[0]["kind"] == "pistol"
    assert cli("--as", "armero1", "export", "firearms", "--format", "xlsx").exit_code == 2
    out = tmp_path / "inventario.xlsx"
    result = cli("--as", "supervisor", "export", "firearms", "--format", "xlsx", "--out", out,
                 "--agency", "MUN2", "--lang", "en")
    assert result.exit_code == 0, result.output
    sheet = load_workbook(out).worksheets[0]
    assert sheet["A1"].value == "Agency" and sheet["B2"].value == "BER-B100"
    assert sheet.max_row == 2


def test_export_refuses_what_the_user_may_not_see(cli):
    result = cli("--as", "armero1", "export", "firearms", "--agency", "MUN2")
    assert result.exit_code == 1 and "not found" in result.stderr
    assert cli("--as", "armero1", "export", "locations", "--status", "x").exit_code == 2
    result = cli("--as", "armero1", "export", "custody", "--as-of", "2099-01-01")
    assert result.exit_code == 1 and "future" in result.stderr


def test_export_a_licence_as_pdf(cli, tmp_path):
    from datetime import date

    from resguardo.services import registry

    from world import do
    do(context.deployment(), "admin", registry.add_licence, "LOC-9", "MUN1", ["MUN1"],
       date(2025, 1, 1), date(2030, 1, 1))
    out = tmp_path / "altas.pdf"
    result = cli("--as", "jefe1", "export", "licence", "LOC-9", "--from", "2025-01-01", "--to",
                 "2025-12-31", "--out", out)
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")


def test_a_file_with_no_rows_is_refused_and_nothing_is_recorded(cli, world, tmp_path):
    with world.read(None) as uow:
        before = uow.repo.log_size()
    result = cli("--as", "armero1", "import", "firearms",
                 file(tmp_path, "Serie;Marca;Calibre;Tipo\r\n", "vacio.csv"))
    assert result.exit_code == 1
    assert "vacio.csv: no rows to import" in result.output
    with world.read(None) as uow:
        assert uow.repo.log_size() == before
