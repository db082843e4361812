"""The domain's rules on the paths that fetch their facts (``services.custody.override_for``,
the pending request, the loss report), as an insider would try them: an override stretched
to a second weapon inside one import, to another officer at the desk; a request asked twice
or asked again after its rejection; a loss notified twice. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from resguardo.domain.errors import NotFound, OfficerNotEligible, ValidationFailed
from resguardo.services import custody, desk, registry
from resguardo.services.imports import ImportOptions, import_file

from world import do, look

REASON = "Operativo especial autorizado"


def _import(app, tmp_path: Path, rows: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "inventario.csv"
    path.write_text("Serie,Marca,Calibre,Tipo,Resguardante\n" + rows, encoding="utf-8")
    with app.work("armero1") as uow:
        report = import_file(uow, "firearms", path,
                             ImportOptions(location="ARM1", skip_invalid=True))
        uow.commit()
    return report


def _stored(app, serial: str):  # type: ignore[no-untyped-def]
    return look(app, None, lambda uow: uow.repo.firearm(serial))


def test_one_override_covers_one_row_of_an_import_not_two(world, tmp_path):
    """The import decides every row before the projection marks the override used: the
    second row to the same suspended officer must still find it spent."""
    do(world, "jefe1", registry.suspend_officer, "MUN1", "P1", "Investigación interna")
    granted = do(world, "jefe1", custody.grant_override, "MUN1", "P1", REASON)
    report = _import(world, tmp_path, "IMP-1,Glock,9mm,pistol,P1\nIMP-2,Glock,9mm,pistol,P1\n")
    assert report.imported == 1
    (problem,) = report.problems
    assert (problem.line, problem.code) == (3, "not_eligible")
    assert _stored(world, "IMP-1").status.value == "issued"
    with pytest.raises(NotFound):
        _stored(world, "IMP-2")
    # and the override is spent for the desk too
    with pytest.raises(OfficerNotEligible):
        do(world, "armero1", custody.issue, "GLK-A100", "P1")
    issued = look(world, None, lambda uow: [e for e in uow.repo.iter_events(granted.position)
                                            if e.type == "custody.issued"])
    assert [e.payload.get("override_id") for e in issued] == [granted.position]


def test_two_overrides_cover_two_rows_of_an_import_as_they_would_two_issues_at_the_desk(
        world, tmp_path):
    do(world, "jefe1", registry.suspend_officer, "MUN1", "P1", "Investigación interna")
    first = do(world, "jefe1", custody.grant_override, "MUN1", "P1", REASON)
    second = do(world, "jefe1", custody.grant_override, "MUN1", "P1", REASON + " (2)")
    report = _import(world, tmp_path, "IMP-1,Glock,9mm,pistol,P1\nIMP-2,Glock,9mm,pistol,P1\n")
    assert (report.imported, report.problems) == (2, [])
    issued = look(world, None, lambda uow: [e for e in uow.repo.iter_events(second.position)
                                            if e.type == "custody.issued"])
    assert [e.payload["override_id"] for e in issued] == [second.position, first.position]


def test_an_override_for_one_officer_covers_no_other_at_the_desk_or_in_an_import(
        world, tmp_path):
    for badge in ("P1", "P2"):
        do(world, "jefe1", registry.suspend_officer, "MUN1", badge, "Investigación interna")
    do(world, "jefe1", custody.grant_override, "MUN1", "P1", REASON)
    assert look(world, "armero1", desk.officer_card, "P1").override
    assert not look(world, "armero1", desk.officer_card, "P2").override
    with pytest.raises(OfficerNotEligible) as refused:
        look(world, "armero1", desk.plan, "P2", "GLK-A100")
    assert refused.value.details["badge"] == "P2"
    report = _import(world, tmp_path, "IMP-3,Glock,9mm,pistol,P2\n")
    assert report.imported == 0 and [p.code for p in report.problems] == ["not_eligible"]
    # P1's override is still there for P1
    assert do(world, "armero1", custody.issue, "GLK-A100", "P1").payload["override_id"]


def test_a_request_asked_twice_is_refused_and_asked_again_after_its_rejection_is_a_new_one(
        world):
    first = do(world, "armero1", custody.request_decommission, "GLK-A100", "Corredera fracturada")
    with pytest.raises(ValidationFailed, match="already awaiting approval"):
        do(world, "armero1", custody.request_decommission, "GLK-A100", "Cañón dañado")
    rejected = do(world, "jefe1", custody.reject_request, "GLK-A100", "decommission",
                  "Falta el dictamen técnico")
    assert rejected.payload == {"request_id": first.position,
                                "firearm_id": rejected.payload["firearm_id"],
                                "kind": "decommission"}
    with pytest.raises(NotFound):  # a rejected request cannot be approved afterwards
        do(world, "jefe1", custody.approve_decommission, "GLK-A100")
    again = do(world, "armero1", custody.request_decommission, "GLK-A100",
               "Corredera fracturada, dictamen DT-77")
    states = look(world, "jefe1", lambda uow: {r["id"]: r["state"]
                                              for r in uow.repo.requests(state=None)})
    assert states == {first.position: "rejected", again.position: "pending"}
    approved = do(world, "jefe1", custody.approve_decommission, "GLK-A100")
    assert approved.payload["request_id"] == again.position


def test_a_transfer_asked_twice_is_refused(world):
    do(world, "armero1", custody.request_transfer, "GLK-A100", "MUN2", "Reasignación")
    with pytest.raises(ValidationFailed, match="a transfer of GLK-A100 is already awaiting"):
        do(world, "armero1", custody.request_transfer, "GLK-A100", "MUN2", "Reasignación")


def test_the_military_authority_is_notified_once_per_loss(world, clock):
    do(world, "armero1", custody.report_missing, "GLK-A100", stolen=True,
       occurred_on=date(2025, 3, 1), place="Col. Centro", on_duty=False,
       complaint_number="FGE/123/2025", complaint_authority="FGE Jalisco")
    do(world, "jefe1", custody.record_notification, "GLK-A100", clock.now - timedelta(hours=1),
       reference="Oficio SEDENA 1")
    with pytest.raises(ValidationFailed, match="already notified at 2025-03-03T07:00:00") as again:
        do(world, "jefe1", custody.record_notification, "GLK-A100", clock.now,
           reference="Oficio SEDENA 2")
    assert again.value.details["field"] == "notified_at"
