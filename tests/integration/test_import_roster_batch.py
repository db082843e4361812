"""A large roster enters the log in batches (``registry.add_officers``), in file order,
with the same rows the one-by-one path writes, and the ledger verifies."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from resguardo.domain.errors import Conflict, NotFound, PermissionDenied
from resguardo.domain.registry import OfficerInput
from resguardo.services import import_roster
from resguardo.services import registry as registry_service
from resguardo.services.imports import ImportOptions, import_file
from resguardo.storage import tables as t

from world import check_log


def run(app, path: Path, user: str = "jefe1", **options):  # type: ignore[no-untyped-def]
    with app.work(user) as uow:
        report = import_file(uow, "officers", path, ImportOptions(**options))
        if report.commit:
            uow.commit()
    return report


def roster(tmp_path: Path, rows: list[str], name: str = "elementos.csv") -> Path:
    path = tmp_path / name
    path.write_text("Placa,Nombre,Estatus,Vigencia de credencial,CUIP\n" + "\n".join(rows) + "\n",
                    encoding="utf-8")
    return path



def officer_events(app, start: int):  # type: ignore[no-untyped-def]
    with app.read(None) as uow:
        return [ev for ev in uow.repo.iter_events(start) if ev.type.startswith("officer.")]


def head(app) -> int:  # type: ignore[no-untyped-def]
    with app.read(None) as uow:
        return int(uow.conn.exec_driver_sql("SELECT size FROM log_head").scalar_one())


def officer_rows(app, badges: set[str]) -> dict[str, tuple]:  # type: ignore[no-untyped-def]
    c = t.officers.c
    with app.read(None) as uow:
        return {r.badge: (r.name, r.cuip, r.status, r.credential_expiry, r.qualification_expiry,
                          r.licence_id, r.credential_folio)
                for r in uow.conn.execute(select(t.officers).where(c.badge.in_(badges)))}


def test_a_large_roster_enters_the_log_in_file_order_across_batches(world, tmp_path,
                                                                     monkeypatch):
    """Batches of 7; a suspended officer (one by one) between them keeps its place."""
    monkeypatch.setattr(import_roster.OfficerImport, "BATCH", 7)
    rows = [f"N-{n:03d},Elemento {n},,31/12/2030,C-{n}" for n in range(40)]
    rows.insert(17, "S-001,Suspendida Ruiz,suspendido,,")
    start = head(world)
    report = run(world, roster(tmp_path, rows))
    assert (report.imported, report.rejected) == (41, 0)
    entries = officer_events(world, start)
    badges = [ev.payload["badge"] for ev in entries if ev.type == "officer.registered"]
    assert badges == [r.split(",")[0] for r in rows]
    suspended = next(i for i, ev in enumerate(entries) if ev.payload.get("badge") == "S-001")
    assert entries[suspended + 1].type == "officer.suspended"
    positions = [ev.position for ev in entries]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    check_log(world)


def test_the_batch_writes_the_rows_one_by_one_writes(world, tmp_path, monkeypatch):
    rows = [f"B-{n:02d},Elemento {n},,01/02/2031,C-{n}" for n in range(12)]
    first = run(world, roster(tmp_path, rows, "a.csv"))
    batched = officer_rows(world, {f"B-{n:02d}" for n in range(12)})
    # the same officers under other badges, the one-by-one way
    monkeypatch.setattr(import_roster.OfficerImport, "queue", lambda self, line, cells: False)
    second = run(world, roster(tmp_path, [r.replace("B-", "U-") for r in rows], "b.csv"))
    single = officer_rows(world, {f"U-{n:02d}" for n in range(12)})
    assert first.imported == second.imported == 12
    assert {b.replace("B-", ""): v for b, v in batched.items()} == {
        b.replace("U-", ""): v for b, v in single.items()}
    check_log(world)


def test_a_refused_row_in_a_batch_is_named_and_the_rest_follow_the_mode(world, tmp_path):
    rows = [f"R-{n:02d},Elemento {n},,," for n in range(10)]
    rows[4] = "R-04,,,,"  # no name
    rows[6] = f"R-06,{'x' * 40},,,{'C' * 40}"  # a CUIP longer than the domain allows
    start = head(world)
    refused = run(world, roster(tmp_path, rows))
    assert refused.failed and [p.line for p in refused.problems] == [6, 8]
    assert head(world) == start  # all or nothing: nothing was written
    skipped = run(world, roster(tmp_path, rows), skip_invalid=True)
    assert (skipped.imported, skipped.rejected) == (8, 2)
    assert sorted(officer_rows(world, {f"R-{n:02d}" for n in range(10)})) == [
        f"R-{n:02d}" for n in range(10) if n not in (4, 6)]
    check_log(world)


def test_a_badge_already_registered_is_refused_by_the_batch_too(world, tmp_path):
    """P1 is MUN1's already: named on its line, not written twice."""
    rows = ["Z-1,Ana,,,", "P1,Otra,,,", "Z-2,Eva,,,"]
    report = run(world, roster(tmp_path, rows), skip_invalid=True)
    assert (report.imported, report.rejected) == (2, 1)
    assert [(p.line, p.code) for p in report.problems] == [(3, "badge_taken")]
    with world.work("jefe1") as uow, pytest.raises(Conflict, match="P1"):
        registry_service.add_officers(uow, "MUN1", [OfficerInput("Z-9", "Nueva"),
                                                    OfficerInput("p1", "Repetida")])


def test_an_insider_cannot_batch_officers_into_another_agency(world):
    """A chief of MUN1 calling the batch service for MUN2 finds no such agency (as
    ``add_officer`` answers: out of scope is not found); an armorer may not add officers."""
    start = head(world)
    with world.work("jefe1") as uow, pytest.raises(NotFound):
        registry_service.add_officers(uow, "MUN2", [OfficerInput("X-1", "Infiltrado")])
    with world.work("armero1") as uow, pytest.raises(PermissionDenied):
        registry_service.add_officers(uow, "MUN1", [OfficerInput("X-2", "Sin permiso")])
    assert head(world) == start
