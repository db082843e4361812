"""Every decision that speaks of a day takes the agency's own day, not UTC's (SQLite and
PostgreSQL).

Mexico is west of UTC: in an agency's evening UTC's day is already the next one. 23:30 on
6 December in Tijuana is 07:30 UTC on the 7th; 18:07 in Guadalajara is 00:07 UTC on the
7th. Decided on UTC's day, a credential valid through the 6th turns an officer away from
the desk that evening, a weapon "acquired" on the 7th is taken on the 6th, a weapon
registered that evening gets one day more before its undeclared alert, a revista closed
that evening is due a day late, and ``export --as-of 2026-12-06`` leaves out what the
agency did on the 6th. Each test here failed on the code that decided on UTC's day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from resguardo.domain.errors import OfficerNotEligible, ValidationFailed
from resguardo.domain.registry import FirearmInput, OfficerInput
from resguardo.services import (
    alerts,
    ammunition,
    credential,
    custody,
    desk,
    exports,
    inspections,
    licences,
    pins,
    registry,
)

from world import do, look

DEC6, DEC7 = date(2026, 12, 6), date(2026, 12, 7)
FAR = date(2030, 1, 1)
TIJ_LATE = datetime(2026, 12, 7, 7, 30, tzinfo=UTC)       # 23:30 on the 6th in Tijuana
TIJ_MIDNIGHT = datetime(2026, 12, 7, 8, 5, tzinfo=UTC)    # 00:05 on the 7th in Tijuana
GDL_EVENING = datetime(2026, 12, 7, 0, 7, tzinfo=UTC)     # 18:07 on the 6th in Guadalajara
HMO_LATE = datetime(2026, 12, 7, 6, 30, tzinfo=UTC)       # 23:30 on the 6th in Hermosillo


@pytest.fixture
def app(world, clock):  # type: ignore[no-untyped-def]
    """MUN1 in Tijuana (UTC-8 in December), MUN2 in Hermosillo (UTC-7); P5 and Q5 carry
    credentials valid through 6 December."""
    clock.now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    do(world, "admin", registry.set_place, "MUN1", time_zone="America/Tijuana",
       city="Tijuana, Baja California")
    do(world, "admin", registry.set_place, "MUN2", time_zone="America/Hermosillo",
       city="Hermosillo, Sonora")
    do(world, "jefe1", registry.add_officer, "MUN1", OfficerInput(
        "P5", "Marta León", credential_folio="CR-5", credential_expiry=DEC6,
        qualification_expiry=FAR))
    do(world, "jefe1", pins.set_pin, "MUN1", "P5", "4821")
    do(world, "jefe2", registry.add_officer, "MUN2", OfficerInput(
        "Q5", "Iván Cruz", credential_expiry=FAR, qualification_expiry=DEC6))
    do(world, "armero1", ammunition.receive, "MUN1", "ARM1", "9x19mm", "L-1", 500, "DCAM")
    return world


def test_the_desk_serves_an_officer_through_the_last_day_of_his_credential(app, clock):
    clock.now = TIJ_LATE
    card = look(app, "armero1", desk.officer_card, "P5")
    assert (card.problems, card.today) == ([], DEC6)
    planned, ev = do(app, "armero1", desk.perform, "P5", "GLK-A100", "4821")
    assert (planned.action, ev.type) == (desk.ISSUE, "custody.issued")
    assert "override_id" not in ev.payload  # no chief's override was needed, nor spent
    do(app, "armero1", desk.perform, "P5", "GLK-A100", None)  # back in the armory
    do(app, "armero1", ammunition.issue, "MUN1", "ARM1", "P5", "9x19mm", "L-1", 30)
    # the same officer after midnight in Tijuana: his credential expired yesterday there
    clock.now = TIJ_MIDNIGHT
    card = look(app, "armero1", desk.officer_card, "P5")
    assert card.today == DEC7
    assert [str(p) for p in card.problems] == ["carry credential expired on 2026-12-06"]
    size = look(app, None, lambda uow: uow.repo.log_size())
    with pytest.raises(OfficerNotEligible, match="credential expired on 2026-12-06"):
        do(app, "armero1", desk.perform, "P5", "GLK-A100", "4821")
    with pytest.raises(OfficerNotEligible, match="credential expired on 2026-12-06"):
        do(app, "armero1", custody.issue, "GLK-A200", "P5")
    with pytest.raises(OfficerNotEligible, match="credential expired on 2026-12-06"):
        do(app, "armero1", ammunition.issue, "MUN1", "ARM1", "P5", "9x19mm", "L-1", 30)
    assert look(app, None, lambda uow: uow.repo.log_size()) == size


def test_each_agency_decides_on_its_own_day_at_the_same_instant(app, clock):
    """00:05 on the 7th in Tijuana is 01:05 on the 7th in Hermosillo, but 23:30 on the 6th
    in Hermosillo is 22:30 in Tijuana: the same instant, each agency's own day."""
    clock.now = datetime(2026, 12, 7, 6, 59, tzinfo=UTC)  # 23:59 Hermosillo, 22:59 Tijuana
    assert do(app, "armero2", custody.issue, "BER-B100", "Q5").type == "custody.issued"
    do(app, "armero2", custody.return_, "BER-B100", "ARM1")
    clock.now = datetime(2026, 12, 7, 7, 1, tzinfo=UTC)  # 00:01 Hermosillo, 23:01 Tijuana
    with pytest.raises(OfficerNotEligible, match="qualification expired on 2026-12-06"):
        do(app, "armero2", custody.issue, "BER-B100", "Q5")
    assert do(app, "armero1", custody.issue, "GLK-A100", "P5").type == "custody.issued"


def test_a_weapon_of_record_is_assigned_on_the_last_day_of_the_credential(app, clock):
    clock.now = TIJ_LATE
    ev = do(app, "jefe1", credential.assign, "P5", "GLK-A300")
    assert ev.type == "firearm.assigned_of_record"
    clock.now = TIJ_MIDNIGHT
    with pytest.raises(ValidationFailed, match="expired on 2026-12-06; renew it first"):
        do(app, "jefe1", credential.assign, "P5", "GLK-A400")


def test_the_registry_refuses_tomorrows_dates_in_the_agencys_evening(app, clock):
    """At 23:30 on the 6th in Tijuana the 7th is in the future there: a weapon "acquired"
    tomorrow, a credential "issued" tomorrow or a loss "on" tomorrow is refused, as at noon."""
    clock.now = TIJ_LATE

    def weapon(serial: str, acquired: date) -> FirearmInput:
        return FirearmInput(serial=serial, make="Glock", calibre="9x19mm", kind="pistol",
                            model="19", acquired_on=acquired)

    with pytest.raises(ValidationFailed, match="acquisition date is in the future") as no:
        do(app, "armero1", registry.register_firearm, "MUN1", "ARM1", weapon("GLK-T1", DEC7))
    assert no.value.details["field"] == "acquired"
    assert do(app, "armero1", registry.register_firearm, "MUN1", "ARM1",
              weapon("GLK-T2", DEC6)).payload["acquired_on"] == "2026-12-06"
    with pytest.raises(ValidationFailed, match="credential issue date is in the future"):
        do(app, "jefe1", registry.renew_officer, "MUN1", "P5", credential_expiry=FAR,
           credential_issued=DEC7)
    with pytest.raises(ValidationFailed, match="cannot be in the future") as no:
        do(app, "armero1", custody.report_missing, "GLK-A500", stolen=True, occurred_on=DEC7,
           place="Tijuana", on_duty=False, complaint_number="FGE-1",
           complaint_authority="FGE Baja California")
    assert no.value.details["field"] == "occurred_on"
    # an expiry of today is not "in the past" yet: renewed to the end of the 6th
    renewed = do(app, "jefe1", registry.renew_officer, "MUN1", "P1", credential_expiry=DEC6)
    assert renewed.payload["credential_expiry"] == "2026-12-06"


def test_a_licence_that_ends_today_still_takes_weapons_and_officers_that_evening(app, clock):
    do(app, "admin", registry.add_licence, "LOC-TIJ-1", "SSP", ["MUN1"], date(2025, 1, 1),
       DEC6)
    clock.now = TIJ_LATE
    ev = do(app, "armero1", registry.attach_firearm, "GLK-A100", "LOC-TIJ-1", "Manifestada")
    assert ev.type == "licence.firearm_attached"
    ev = do(app, "jefe1", registry.attach_officer, "MUN1", "P1", "LOC-TIJ-1", "Alta")
    assert ev.type == "licence.officer_attached"
    clock.now = TIJ_MIDNIGHT
    with pytest.raises(ValidationFailed, match="expired"):
        do(app, "armero1", registry.attach_firearm, "GLK-A200", "LOC-TIJ-1", "Manifestada")


def undeclared(app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    found = look(app, "supervisor", licences.licence_alerts)
    return {a.subject: a.message for a in found if a.kind.value == "undeclared_weapon"}


def test_a_weapon_registered_in_the_evening_has_its_30_days_from_that_day(app, clock):
    """Registered at 18:07 on the 6th in Guadalajara with no acquisition date: acquired on
    the 6th (not UTC's 7th); its 30 days run out on 5 January, so on the 6th of January the
    alert is up from the agency's morning, not a day later."""
    do(app, "admin", registry.set_place, "MUN1", time_zone="America/Mexico_City")
    do(app, "admin", registry.add_licence, "LOC-GDL-1", "SSP", ["MUN1"], date(2025, 1, 1), FAR)
    clock.now = GDL_EVENING
    do(app, "armero1", registry.register_firearm, "MUN1", "ARM1", FirearmInput(
        serial="GLK-E1", make="Glock", calibre="9x19mm", kind="pistol", model="17"))
    clock.now = datetime(2027, 1, 6, 0, 7, tzinfo=UTC)  # 18:07 on 5 January: the last day
    assert "Glock GLK-E1" not in undeclared(app)
    clock.now = datetime(2027, 1, 6, 15, 0, tzinfo=UTC)  # 09:00 on 6 January
    assert undeclared(app)["Glock GLK-E1"] == (
        "acquired on 2026-12-06 and on no collective licence: the 30 days to declare it ran "
        "out on 2027-01-05")


def test_an_issued_weapon_alert_waits_for_the_end_of_the_officers_day(app, clock):
    """The alert "weapon issued to an officer whose credential expired" is not raised at
    23:30 on the last valid day in Tijuana; it is raised after midnight there."""
    clock.now = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
    do(app, "armero1", custody.issue, "GLK-A100", "P5")

    def expired() -> list[str]:
        found = look(app, "supervisor", alerts.open_alerts, loss_deadline=app.settings
                     .loss_notify_deadline, shift_length=app.settings.shift_length)
        return [a.subject for a in found if a.kind.value == "credential_expired"]

    clock.now = TIJ_LATE
    assert expired() == []
    clock.now = TIJ_MIDNIGHT
    assert expired() == ["Glock GLK-A100 / P5 Marta León"]


def test_a_revista_closed_in_the_evening_is_due_again_from_that_day(app, clock):
    """Closed at 23:30 on 6 December in Hermosillo: the next one is due on 6 June."""
    clock.now = datetime(2026, 12, 6, 17, 0, tzinfo=UTC)
    iid = do(app, "inspector", inspections.plan, "MUN2", DEC6).position
    do(app, "inspector", inspections.open_, iid)
    clock.now = HMO_LATE
    do(app, "inspector", inspections.close, iid)
    row = next(r for r in look(app, "inspector", inspections.due, 6) if r["agency"] == "MUN2")
    assert (row["due_on"], row["status"]) == ("2027-06-06", "ok")
    clock.now = datetime(2027, 6, 7, 7, 30, tzinfo=UTC)  # 00:30 on 7 June in Hermosillo
    row = next(r for r in look(app, "inspector", inspections.due, 6) if r["agency"] == "MUN2")
    assert row["status"] == "overdue"


def firearms_as_of(app, user: str, day: date, agency: str | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    def read(uow):  # type: ignore[no-untyped-def]
        options = exports.ExportOptions(agency=agency, as_of=day)
        with exports.open_export(uow, "firearms", options) as table:
            return [r["serial"] for r in table.rows]
    return look(app, user, read)


def test_export_as_of_a_day_holds_what_each_agency_did_on_its_day(app, clock):
    """At the same UTC minutes: a weapon registered at 23:30 on the 6th in Hermosillo is in
    the registry as of the 6th; one registered at 00:20 on the 7th in Guadalajara is not."""
    do(app, "admin", registry.set_place, "MUN1", time_zone="America/Mexico_City")
    clock.now = datetime(2026, 12, 7, 6, 20, tzinfo=UTC)  # 00:20 on the 7th in Guadalajara
    do(app, "armero1", registry.register_firearm, "MUN1", "ARM1", FirearmInput(
        serial="GLK-L7", make="Glock", calibre="9x19mm", kind="pistol", model="17"))
    clock.now = HMO_LATE  # 23:30 on the 6th in Hermosillo
    do(app, "armero2", registry.register_firearm, "MUN2", "ARM1", FirearmInput(
        serial="BER-E6", make="Beretta", calibre="9x19mm", kind="pistol", model="92FS"))
    clock.now = datetime(2026, 12, 7, 6, 45, tzinfo=UTC)
    state = firearms_as_of(app, "supervisor", DEC6)
    # MUN1's rows, then MUN2's, as any export orders them (by agency, then serial)
    assert state == ["GLK-A100", "GLK-A200", "GLK-A300", "GLK-A400", "GLK-A500",
                     "BER-B100", "BER-E6"]
    assert "BER-E6" in firearms_as_of(app, "armero2", DEC6)
    assert "GLK-L7" in firearms_as_of(app, "supervisor", DEC7, "MUN1")
    # the 7th has begun in Guadalajara, not in Hermosillo
    with pytest.raises(ValidationFailed, match="in the future") as no:
        firearms_as_of(app, "armero2", DEC7)
    assert no.value.details["field"] == "as_of"


def test_export_as_of_18_07_in_guadalajara_includes_that_evening(app, clock):
    do(app, "admin", registry.set_place, "MUN1", time_zone="America/Mexico_City")
    clock.now = GDL_EVENING
    do(app, "armero1", registry.register_firearm, "MUN1", "ARM1", FirearmInput(
        serial="GLK-E6", make="Glock", calibre="9x19mm", kind="pistol", model="17"))
    assert "GLK-E6" in firearms_as_of(app, "armero1", DEC6)
    with pytest.raises(ValidationFailed, match="in the future"):
        firearms_as_of(app, "armero1", DEC7)


def test_an_inventory_import_in_the_agencys_evening_takes_its_day(app, clock, tmp_path):
    """At 23:30 on the 6th in Tijuana: a row acquired on the 7th is refused as a future
    date, one acquired on the 6th is taken, and a row that puts a weapon in the hands of
    an officer whose credential runs through the 6th is imported (after midnight there it
    is refused, naming the column)."""
    from resguardo.services.imports import ImportOptions, import_file

    def run(text: str):  # type: ignore[no-untyped-def]
        path = tmp_path / "inv.csv"
        path.write_text(text, encoding="utf-8")
        with app.work("armero1") as uow:
            report = import_file(uow, "firearms", path, ImportOptions(location="ARM1"))
            if report.commit:
                uow.commit()
        return report

    clock.now = TIJ_LATE
    report = run("Serie,Marca,Calibre,Tipo,Fecha de alta\nI-1,Glock,9mm,pistola,07/12/2026\n")
    assert [(p.line, p.code) for p in report.problems] == [(2, "future_date")]
    report = run("Serie,Marca,Calibre,Tipo,Fecha de alta,Resguardante\n"
                 "I-2,Glock,9mm,pistola,06/12/2026,\n"
                 "I-3,Glock,9mm,pistola,,P5\n")
    assert (report.problems, report.imported) == ([], 2)
    officer = look(app, None, lambda uow: uow.repo.officer(uow.repo.org("MUN1").id, "P5"))
    assert look(app, None, lambda uow: uow.repo.firearm("I-3")).custodian_id == officer.id
    clock.now = TIJ_MIDNIGHT
    report = run("Serie,Marca,Calibre,Tipo,Resguardante\nI-4,Glock,9mm,pistola,P5\n")
    (problem,) = report.problems
    assert (problem.code, problem.column) == ("not_eligible", "Resguardante")


def test_an_agencys_day_cannot_be_stretched_by_a_zone_outside_mexico(app, clock):
    """The insider's move once days are local: set Tijuana's agency to Pago Pago's clock
    (UTC-11) and an officer whose credential ended yesterday in Tijuana would still be "on
    the 6th" until 03:00 in Tijuana. An organization keeps one of Mexico's zones; any
    other is refused naming the field, nothing is recorded, and the desk still refuses."""
    clock.now = TIJ_MIDNIGHT
    size = look(app, None, lambda uow: uow.repo.log_size())
    with pytest.raises(ValidationFailed, match="not an IANA zone"):
        do(app, "admin", registry.set_place, "MUN1", time_zone="UTC")
    for zone in ("Pacific/Pago_Pago", "Etc/GMT+12", "America/Los_Angeles"):
        with pytest.raises(ValidationFailed, match="not one of Mexico's") as no:
            do(app, "admin", registry.set_place, "MUN1", time_zone=zone)
        assert no.value.details["field"] == "time_zone"
        with pytest.raises(ValidationFailed, match="not one of Mexico's"):
            do(app, "admin", registry.add_organization, "MUN9", "Policía 9", "agency", "SSP",
               time_zone=zone)
    assert look(app, None, lambda uow: uow.repo.log_size()) == size
    with pytest.raises(OfficerNotEligible, match="credential expired on 2026-12-06"):
        do(app, "armero1", custody.issue, "GLK-A100", "P5")
    for zone in ("America/Cancun", "America/Ciudad_Juarez", "America/Bahia_Banderas"):
        assert do(app, "admin", registry.set_place, "MUN2", time_zone=zone).payload[
            "time_zone"] == zone


def test_the_zones_of_many_organizations_are_each_ones_place(app):
    """``zones`` (a schedule or a dashboard over a country, in two queries) says for every
    organization what ``place`` says: its own zone, the nearest ancestor's, the default."""
    do(app, "admin", registry.set_place, "SSP2", time_zone="America/Cancun")
    do(app, "admin", registry.set_place, "SSP", time_zone="America/Chihuahua")

    def both(uow):  # type: ignore[no-untyped-def]
        ids = [o.id for o in uow.repo.orgs()]
        return uow.repo.zones(ids), {i: uow.repo.place(i)["time_zone"] for i in ids}

    many, one_by_one = look(app, None, both)
    assert many == one_by_one
    assert set(many.values()) == {"America/Mexico_City", "America/Cancun",
                                  "America/Chihuahua", "America/Tijuana",
                                  "America/Hermosillo"}


def test_the_zone_a_transaction_reads_is_each_ones_place_and_follows_a_change(app):
    """``UnitOfWork.zone_of`` (the desk's look-up, on the driver's cursor) says what
    ``place`` says, inherited or its own, and a zone set in the same transaction is read
    again from then on."""
    do(app, "admin", registry.set_place, "SSP", time_zone="America/Chihuahua")
    with app.work("admin") as uow:
        for org in uow.repo.orgs():
            assert uow.zone_of(org.id) == uow.repo.place(org.id)["time_zone"]
        mun3 = uow.repo.org("MUN3").id
        assert uow.zone_of(mun3) == "America/Mexico_City"
        registry.set_place(uow, "SSP2", time_zone="America/Merida")
        assert uow.zone_of(mun3) == "America/Merida"
        uow.rollback()
