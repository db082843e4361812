"""Importing officers and locations: a row at a time through the ordinary services."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook

from resguardo.domain.errors import PermissionDenied
from resguardo.services.imports import ImportOptions, import_file


def run(app, kind: str, path: Path, user: str = "jefe1", **options):  # type: ignore[no-untyped-def]
    with app.work(user) as uow:
        report = import_file(uow, kind, path, ImportOptions(**options))
        if report.commit:
            uow.commit()
    return report


def write(tmp_path: Path, text: str, name: str = "elementos.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def officer(app, badge: str):  # type: ignore[no-untyped-def]
    with app.read(None) as uow:
        return uow.repo.officer(uow.repo.org("MUN1").id, badge)


ROSTER = (
    "No. de placa;Nombre completo;CUIP;Estatus;Folio de credencial;Vigencia de credencial;"
    "Vigencia de evaluación\n"
    "p-0142;Ana Ruiz Díaz;CUIP-9;En activo;CR-1;07/03/2027;2026-12-31\n"
    "P-0143;Luis Mora;;Suspendido;;;\n"
    "P-0144;Eva Soto;;separada;;;\n"
)


def test_a_roster_is_imported_with_statuses_and_day_first_dates(world, tmp_path):
    report = run(world, "officers", write(tmp_path, ROSTER))
    assert (report.imported, report.rejected) == (3, 0)
    ana = officer(world, "P-0142")
    assert (ana.name, ana.cuip, ana.credential_folio) == ("Ana Ruiz Díaz", "CUIP-9", "CR-1")
    assert ana.credential_expiry == date(2027, 3, 7)
    assert ana.qualification_expiry == date(2026, 12, 31)
    assert officer(world, "P-0143").status.value == "suspended"
    assert officer(world, "P-0144").status.value == "separated"


def test_roster_problems_name_line_and_column_and_nothing_is_imported(world, tmp_path):
    text = ("Placa,Nombre,Estatus,Vigencia de credencial,Corporación\n"
            "Q-1,Ana,activo,31/02/2027,\n"
            "Q-2,,activo,,\n"
            "Q-3,Eva,jubilado,,\n"
            "q-1,Ana bis,,,\n"
            "P1,Otra,,,\n"
            "Q-5,Raúl,,,MUN2\n")
    report = run(world, "officers", write(tmp_path, text))
    assert report.failed
    assert [(p.line, p.column, p.code) for p in report.problems] == [
        (2, "Vigencia de credencial", "bad_date"),
        (3, "Nombre", "required"),
        (4, "Estatus", "unknown_officer_status"),
        (5, "Placa", "repeated_in_file"),
        (6, "Placa", "badge_taken"),
        (7, "Corporación", "other_agency"),
    ]
    with pytest.raises(Exception, match="not found"):
        officer(world, "Q-1")


def test_update_renews_credentials_and_changes_status_through_the_services(world, tmp_path):
    text = "Placa,Nombre,Estatus,Vigencia de credencial\nP1,Ana Ruiz,suspendido,31/12/2031\n" \
           "P2,Luis Mora,,\n"
    report = run(world, "officers", write(tmp_path, text), update=True)
    assert (report.updated, report.unchanged, report.rejected) == (1, 1, 0)
    p1 = officer(world, "P1")
    assert p1.status.value == "suspended" and p1.credential_expiry == date(2031, 12, 31)
    with world.read(None) as uow:
        types = [e.type for e in uow.repo.iter_events(report.first_position)]
    assert types == ["officer.renewed", "officer.suspended", "import.completed"]


def test_an_armorer_may_not_import_officers(world, tmp_path):
    with pytest.raises(PermissionDenied):
        run(world, "officers", write(tmp_path, ROSTER), user="armero1")


def test_locations_from_a_workbook(world, tmp_path):
    book = Workbook()
    for row in (["Clave", "Nombre", "Tipo"], ["BOV-1", "Bóveda central", "Bóveda"],
                ["PAT-12", "Patrulla 12", "patrulla"], ["ARM1", "Armería central", "armería"],
                ["TAL", "Taller", "cocina"]):
        book.active.append(row)
    path = tmp_path / "ubicaciones.xlsx"
    book.save(path)
    report = run(world, "locations", path, skip_invalid=True)
    assert (report.imported, report.rejected) == (2, 2)
    assert [(p.line, p.code) for p in report.problems] == [(4, "location_taken"),
                                                           (5, "unknown_location_kind")]
    with world.read(None) as uow:
        mun1 = uow.repo.org("MUN1").id
        assert uow.repo.location(mun1, "PAT-12").kind == "vehicle"
    again = run(world, "locations", path, update=True, skip_invalid=True)
    assert (again.unchanged, again.rejected) == (3, 1)  # the same places, left as they are
