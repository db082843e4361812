"""``resguardo reconcile``: two spreadsheets in, a reconciliation out, exit codes as documented."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from pypdf import PdfReader
from typer.testing import CliRunner

from resguardo.cli import reconcile as reconcile_cli
from resguardo.cli.main import app
from resguardo.domain.reconcile import reconcile
from resguardo.domain.reconciliation import SUMMARY_KEYS, RegistryEntry, Scan
from resguardo.reports.reconciliation import write_pdf

runner = CliRunner()

REGISTRY = (
    "No. de serie;Marca;Calibre;Tipo;Estatus;Ubicación;Resguardante;Corporación\n"
    "AB-100;Glock;9mm;Pistola;En armería;Armería Central;;Municipal\n"
    "AB-101;Glock;9mm;Pistola;Asignada;;P-0142;Municipal\n"
    "AB-102;Beretta;9mm;Pistola;En armería;Armería Central;;Municipal\n"
    "AB-103;Colt;.38;Revólver;Extraviada;;;Municipal\n"
    "AB-104;Colt;.38;Revólver;En reparación;;;Municipal\n"
    "AB-105;Colt;.38;Revólver;En armería;Armería Central;;Municipal\n"
    "EST-1;Glock;9mm;Pistola;En armería;Base;;Estatal\n"
)

COUNT = (
    "Matrícula,Ubicación,Portador,Fecha y hora,Observaciones\r\n"
    "ab100,Armería Central,,07/03/2024 10:00,\r\n"
    "AB-101,Patrulla 4,P-9999,07/03/2024 10:05,\r\n"
    "AB-103,Armería Central,,07/03/2024 10:06,\r\n"
    'AB-1O5,Armería Central,,07/03/2024 10:07,"leída a mano, dudosa"\r\n'
    "AB-100,Armería Norte,,07/03/2024 10:09,\r\n"
    "EST-1,Armería Central,,07/03/2024 10:10,\r\n"
    "ZZ-9,Armería Central,,07/03/2024 10:11,\r\n"
)


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    registry = tmp_path / "inventario.csv"
    registry.write_bytes(REGISTRY.encode("cp1252"))
    count = tmp_path / "revista.csv"
    count.write_text(COUNT, encoding="utf-8-sig")
    return registry, count


def run(*args: str | Path):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["reconcile", *map(str, args)])


def test_reconcile_prints_the_documented_json_and_exits_zero_whatever_it_found(files):
    registry, count = files
    result = run("--registry", registry, "--count", count, "--agency", "Municipal", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data["summary"]) == list(SUMMARY_KEYS)
    assert data["summary"] == {
        "registry": 6,
        "scans": 7,
        "matched": 1,
        "missing": 2,
        "unregistered": 2,
        "foreign": 1,
        "status_conflict": 1,
        "mislocated": 0,
        "custody_mismatch": 1,
        "duplicate_scan": 1,
        "explained": 1,
    }
    missing = {f["serial"]: f for f in data["findings"] if f["kind"] == "missing"}
    assert missing["AB-105"]["suggested_match"] == {"serial": "AB-1O5", "distance": 1}
    assert missing["AB-105"]["registry"] == {
        "location": "Armería Central",
        "custodian": None,
        "status": "in_storage",
    }
    unregistered = [f for f in data["findings"] if f["kind"] == "unregistered"]
    assert unregistered[0]["observed"]["note"] == "leída a mano, dudosa"
    assert unregistered[0]["observed"]["observed_at"] == "2024-03-07T10:07:00"
    assert unregistered[0]["observed"]["order"] == 5


def test_month_first_changes_how_count_dates_are_read(files):
    registry, count = files
    result = run("--registry", registry, "--count", count, "--json", "--month-first")
    at = [
        f["observed"]["observed_at"] for f in json.loads(result.stdout)["findings"] if f["observed"]
    ]
    assert "2024-07-03T10:05:00" in at


def test_without_an_agency_every_weapon_is_in_scope(files):
    registry, count = files
    data = json.loads(run("--registry", registry, "--count", count, "--json").stdout)
    assert data["summary"]["registry"] == 7
    assert data["summary"]["foreign"] == 0


def test_reconcile_writes_one_csv_row_per_finding_with_spanish_headers(files, tmp_path):
    registry, count = files
    out = tmp_path / "hallazgos.csv"
    result = run("--registry", registry, "--count", count, "--agency", "Municipal", "--csv", out)
    assert result.exit_code == 0, result.output
    with open(out, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 9
    assert rows[0]["Código"] == "missing"
    assert rows[0]["Hallazgo"] == "Faltante"
    assert {r["Matrícula"] for r in rows if r["Código"] == "foreign"} == {"EST-1"}
    assert "Resumen" in result.stdout


def test_reconcile_writes_the_csv_in_english_on_request(files, tmp_path):
    registry, count = files
    out = tmp_path / "findings.csv"
    run("--registry", registry, "--count", count, "--csv", out, "--lang", "en")
    header = out.read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("Code,Finding,Serial,Make")


def test_reconcile_writes_a_pdf_report_whose_text_holds_every_finding(files, tmp_path):
    registry, count = files
    out = tmp_path / "acta.pdf"
    result = run("--registry", registry, "--count", count, "--agency", "Municipal", "--pdf", out)
    assert result.exit_code == 0, result.output
    text = "\n".join(page.extract_text() for page in PdfReader(out).pages)
    assert "Acta de conciliación de armamento" in text
    for serial in ("AB-101", "AB-102", "AB-103", "AB-104", "AB-105", "AB-1O5", "ZZ-9", "EST-1"):
        assert serial in text
    assert "Faltante" in text and "Conflicto de estatus" in text
    assert "Inspector" in text


def test_the_pdf_report_is_in_english_on_request(files, tmp_path):
    registry, count = files
    out = tmp_path / "report.pdf"
    run("--registry", registry, "--count", count, "--pdf", out, "--lang", "en")
    text = PdfReader(out).pages[0].extract_text()
    assert "Firearms reconciliation report" in text
    assert "Missing" in text


def test_the_pdf_falls_back_to_a_core_font_with_latin1_text(tmp_path):
    result = reconcile(
        [RegistryEntry("Ж-1", "Ижмаш", location="Armería Ω")], [Scan("X1", "Armería ✓")]
    )
    out = tmp_path / "core.pdf"
    write_pdf(result, out, font_dir=tmp_path)  # no DejaVu there
    text = "\n".join(page.extract_text() for page in PdfReader(out).pages)
    assert "Armería" in text
    assert "X1" in text


def test_the_terminal_shows_a_summary_and_the_findings(files):
    registry, count = files
    result = run("--registry", registry, "--count", count, "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "Summary" in result.stdout
    assert "Findings" in result.stdout
    assert "ZZ-9" in result.stdout


def test_thousands_of_findings_are_truncated_on_the_terminal_with_a_note(files, monkeypatch):
    monkeypatch.setattr(reconcile_cli, "SHOWN_FINDINGS", 3)
    registry, count = files
    result = run("--registry", registry, "--count", count, "--lang", "en")
    assert "and 6 more findings" in result.stdout


def test_an_unreadable_value_exits_one_naming_the_file_line_and_column(files, tmp_path):
    registry, count = files
    bad = tmp_path / "malo.csv"
    bad.write_text(REGISTRY.replace("Extraviada", "Perdida"), encoding="utf-8")
    result = run("--registry", bad, "--count", count)
    assert result.exit_code == 1
    assert f"{bad}, line 5, column 'Estatus': unknown status 'Perdida'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_missing_required_column_exits_one_naming_the_column(files, tmp_path):
    registry, _ = files
    bad = tmp_path / "conteo.csv"
    bad.write_text("Ubicación,Portador\nA,B\n", encoding="utf-8")
    result = run("--registry", registry, "--count", bad)
    assert result.exit_code == 1
    assert "missing required column 'serial'" in result.stderr


def test_an_xlsx_count_with_a_named_sheet_is_reconciled(files, tmp_path):
    registry, _ = files
    book = Workbook()
    book.active.append(["portada"])
    sheet = book.create_sheet("Conteo")
    sheet.append(["Matrícula", "Ubicación"])
    sheet.append(["AB-100", "Armería Central"])
    path = tmp_path / "conteo.xlsx"
    book.save(path)
    result = run("--registry", registry, "--count", path, "--count-sheet", "Conteo", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["matched"] == 1


@pytest.mark.parametrize(
    "extra",
    [["--json", "--csv", "x.csv"], ["--csv", "x.csv", "--pdf", "x.pdf"], ["--lang", "fr"]],
)
def test_bad_usage_exits_two(files, extra):
    registry, count = files
    result = run("--registry", registry, "--count", count, *extra)
    assert result.exit_code == 2


def test_a_missing_option_or_file_exits_two(files, tmp_path):
    registry, _ = files
    assert run("--registry", registry).exit_code == 2
    assert run("--registry", registry, "--count", tmp_path / "no-such.csv").exit_code == 2


def test_the_help_shows_an_example():
    result = run("--help")
    assert result.exit_code == 0
    assert "Example: resguardo reconcile --registry" in result.stdout


def _large_plain_files(tmp_path: Path) -> tuple[Path, Path]:
    """A registry and a count in plain UTF-8 (no quotes) with findings of every kind."""
    statuses = ["En armería", "Asignada", "Extraviada", "En reparación", "Baja", "en tránsito"]
    registry = [REGISTRY.splitlines()[0]]
    count = ["Matrícula,Ubicación,Portador,Marca,Fecha y hora,Observaciones"]
    for n in range(400):
        status = statuses[n % len(statuses)]
        badge = f"P-{n % 7}" if status == "Asignada" else ""
        agency = "Estatal" if n % 41 == 0 else "Municipal"
        make = "Glock" if n % 3 else "Colt"
        registry.append(f"XY-{n:04d};{make};9mm;Pistola;{status};Armería {n % 5};{badge};{agency}")
        if n % 11 == 0:
            registry.append(f"xy{n:04d};Beretta;9mm;Pistola;En armería;Armería 1;;Municipal")
        if n % 9 == 4:
            continue  # missing (or expected absent)
        serial = f"XY-{n:04d}" if n % 13 else f"XY-{n:04d}".replace("0", "O", 1)
        place, holder = (f"Armería {n % 5}", badge) if n % 17 else ("Armería 9", "P-99")
        count.append(
            f"{serial},{place},{holder},{'' if n % 4 else make},07/03/2024 10:{n % 60:02d},"
        )
        if n % 23 == 0:
            count.append(f"xy {n:04d},Armería 8,,,,segunda")
    count.extend(f"ZZ-{n},Armería 1,,,," for n in range(5))
    paths = tmp_path / "inventario.csv", tmp_path / "conteo.csv"
    paths[0].write_text("\n".join(registry) + "\n", encoding="utf-8")
    paths[1].write_text("\r\n".join(count) + "\r\n", encoding="utf-8-sig")
    return paths


def test_large_files_reconciled_by_two_processes_give_the_same_report(tmp_path, monkeypatch):
    from resguardo.sheets import columnar

    registry, count = _large_plain_files(tmp_path)
    args = ("--registry", registry, "--count", count, "--agency", "Municipal", "--json")
    one = run(*args)
    monkeypatch.setattr(columnar, "MIN_BYTES", 0)
    monkeypatch.setattr(reconcile_cli, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(reconcile_cli, "_workers", lambda *paths: 2)
    two = run(*args)
    assert one.exit_code == two.exit_code == 0, two.output
    assert json.loads(two.stdout) == json.loads(one.stdout)
    summary = json.loads(one.stdout)["summary"]
    assert all(summary[k] for k in SUMMARY_KEYS), summary


def test_a_bad_row_in_large_files_is_reported_once_by_two_processes(tmp_path, monkeypatch):
    from resguardo.sheets import columnar

    registry, count = _large_plain_files(tmp_path)
    text = registry.read_text(encoding="utf-8").replace("XY-0100;Glock", "XY-0100;", 1)
    registry.write_text(text, encoding="utf-8")
    monkeypatch.setattr(columnar, "MIN_BYTES", 0)
    monkeypatch.setattr(reconcile_cli, "_workers", lambda *paths: 2)
    result = run("--registry", registry, "--count", count)
    assert result.exit_code == 1
    line = (
        text.splitlines().index(next(r for r in text.splitlines() if r.startswith("XY-0100"))) + 1
    )
    assert len(result.stderr.strip().splitlines()) == 1
    assert f"{registry}, line {line}, column 'Marca': make is required" in result.stderr


def test_reconcile_starts_without_loading_the_database_commands(files):
    import subprocess
    import sys

    registry, count = files
    script = (
        "import sys; sys.argv = ['resguardo', 'reconcile', '--registry', sys.argv[1], "
        "'--count', sys.argv[2], '--json']\n"
        "from resguardo.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('sqlalchemy' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(registry), str(count)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout)["summary"]["scans"] == 7
    assert done.stderr.strip().splitlines()[-1] == "False"
