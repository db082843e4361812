"""The acta as an acta circunstanciada: the agency's local time (its zone said), the place
of its armory, its collective licence, the people present with post and identification,
an annex with every weapon reviewed and the signatures in the margin of every page."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from resguardo.domain.errors import PermissionDenied, ValidationFailed
from resguardo.domain.registry import FirearmInput
from resguardo.domain.timefmt import local
from resguardo.services import accounts, custody, inspections, registry

from world import do, look

PRESENT = ["Cap. Julián Ortega Ruiz | Inspector de la 15/a. Zona Militar | "
           "Credencial SEDENA A-123456",
           "Lic. Marta Díaz Peña | Directora jurídica municipal | INE IDMEX1234567890",
           "Sgto. Pedro Luna | Armero de la corporación | Gafete municipal 0042"]
EXTRA = 130  # with the world's 5: the annex alone runs past two pages


def _pages(pdf: bytes) -> list[str]:
    return [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]


def _sonora(world) -> None:  # type: ignore[no-untyped-def]
    """The state keeps Sonora's hour; its agency has an armory in Hermosillo and a LOC."""
    do(world, "admin", registry.set_place, "SSP", time_zone="America/Hermosillo")
    do(world, "admin", registry.set_place, "MUN1", city="Hermosillo, Sonora",
       address="Blvd. Luis Encinas 100, Col. Centro")
    do(world, "admin", registry.add_licence, "LOC-SON-0042", "SSP", ["MUN1"],
       date(2024, 1, 1), date(2027, 12, 31))


def test_a_multi_page_acta_shows_local_time_place_loc_the_annex_and_margin_signatures(world):
    _sonora(world)
    with world.work("armero1") as uow:
        for n in range(EXTRA):
            registry.register_firearm(uow, "MUN1", "ARM1", FirearmInput(
                serial=f"SON-{n:04d}", make="Beretta", calibre="9x19mm", kind="pistol",
                model="92FS", folio=f"F-{n:05d}"))
        uow.commit()
    do(world, "armero1", custody.issue, "SON-0001", "P1")
    iid = do(world, "inspector", inspections.plan, "MUN1", date(2025, 3, 4)).position
    do(world, "inspector", inspections.open_, iid, PRESENT)
    for n in range(0, EXTRA, 2):
        do(world, "inspector", inspections.scan, iid, f"SON-{n:04d}", location="ARM1",
           source="scanner")
    do(world, "inspector", inspections.scan, iid, "GLK-A100", location="ARM1")
    do(world, "inspector", inspections.scan, iid, "XYZ-999", location="ARM1")
    do(world, "inspector", inspections.close, iid)
    pdf, _ = do(world, "inspector", inspections.acta, iid)
    pages = _pages(pdf)
    assert len(pages) >= 3
    text = "\n".join(pages)
    flat = " ".join(text.split())

    # every page carries the margin signatures of those present
    for n, page in enumerate(pages, 1):
        flat_page = " ".join(page.split())
        assert "Firmas al margen" in flat_page, f"page {n}"
        for name in ("Cap. Julián Ortega Ruiz", "Lic. Marta Díaz Peña", "Sgto. Pedro Luna"):
            assert name in flat_page, f"{name} missing from the margin of page {n}"

    # the agency's local time, with its zone (Sonora: UTC-7 all year), never UTC
    closing = look(world, None, lambda uow: [e for e in uow.repo.iter_events()
                                             if e.type == "inspection.closed"][-1])
    assert local(closing.at, "America/Hermosillo") in flat
    assert "UTC-07:00" in flat and " UTC\n" not in text and "(UTC)" not in flat
    assert "America/Mexico_City" not in flat

    # the place, the LOC, the people with post and identification
    assert "Blvd. Luis Encinas 100, Col. Centro, Hermosillo, Sonora" in flat
    assert "LOC-SON-0042" in flat
    for line in PRESENT:
        name, post, ident = (p.strip() for p in line.split("|"))
        assert post in flat and ident in flat

    # the annex: every weapon reviewed, with its kind, calibre, folio and how it was counted
    annex = " ".join(" ".join(pages[[i for i, p in enumerate(pages)
                                     if "ANEXO 1" in p][0]:]).split())
    for n in range(EXTRA):
        assert f"SON-{n:04d}" in annex
    for serial in ("GLK-A100", "GLK-A200", "GLK-A300", "GLK-A400", "GLK-A500", "XYZ-999"):
        assert serial in annex
    assert "F-00128" in annex and "pistola" in annex and "9x19mm" in annex
    assert "lector" in annex and "no vista" in annex and "por presentar" in annex
    assert "tecleada; no registrada" in annex  # XYZ-999, read but on no book


def test_an_agency_without_a_zone_of_its_own_or_its_parents_keeps_mexico_city_time(world):
    iid = do(world, "inspector", inspections.plan, "MUN1", date(2025, 3, 4)).position
    do(world, "inspector", inspections.open_, iid, PRESENT[:1])
    do(world, "inspector", inspections.close, iid)
    pdf, _ = do(world, "inspector", inspections.acta, iid)
    flat = " ".join(" ".join(_pages(pdf)).split())
    assert "America/Mexico_City, UTC-06:00" in flat
    assert "lugar no registrado" in flat


def test_people_present_need_name_post_and_identification(world):
    iid = do(world, "inspector", inspections.plan, "MUN1", date(2025, 3, 4)).position
    with pytest.raises(ValidationFailed) as bad:
        do(world, "inspector", inspections.open_, iid, [PRESENT[0], "Cap. Ortega"])
    assert bad.value.details["field"] == "people[2]"
    with pytest.raises(ValidationFailed) as blank:
        do(world, "inspector", inspections.open_, iid,
           [{"name": "Cap. Ortega", "post": "Inspector", "identification": " "}])
    assert blank.value.details["field"] == "people[1].identification"
    with pytest.raises(ValidationFailed) as crowd:
        do(world, "inspector", inspections.open_, iid,
           [f"Testigo {n} | Vecino | INE {n}" for n in range(21)])
    assert crowd.value.details["field"] == "people"
    do(world, "inspector", inspections.open_, iid,
       [{"name": "Cap. Ortega", "post": "Inspector", "identification": "SEDENA A-1"}])
    shown = do(world, "inspector", inspections.show, iid)
    assert shown["people"] == [{"name": "Cap. Ortega", "post": "Inspector",
                                "identification": "SEDENA A-1"}]


def test_a_time_zone_must_be_a_real_one_and_only_an_admin_sets_the_place(world):
    with pytest.raises(ValidationFailed) as bad:
        do(world, "admin", registry.set_place, "MUN1", time_zone="Sonora")
    assert bad.value.details["field"] == "time_zone"
    with pytest.raises(ValidationFailed):
        do(world, "admin", registry.set_place, "MUN1", time_zone="America/Atlantis")
    with pytest.raises(PermissionDenied):
        do(world, "jefe1", registry.set_place, "MUN1", address="Otra dirección 1")
    do(world, "admin", registry.set_place, "MUN1", time_zone="America/Tijuana")
    place = look(world, None, lambda uow: uow.repo.place(
        uow.repo.org_unscoped(uow.repo.org("MUN1").id).id))
    assert place["time_zone"] == "America/Tijuana"


def test_a_users_full_name_and_post_are_set_by_an_admin_not_by_the_user(world):
    with pytest.raises(PermissionDenied):
        do(world, "armero1", accounts.set_profile, "armero1", name="El Jefe Máximo")
    found = do(world, "admin", accounts.set_profile, "armero1", name="Juan Pérez López",
               post="Armero de la Policía Municipal 1")
    assert found["post"] == "Armero de la Policía Municipal 1"
    assert look(world, None, accounts.signer, "armero1") == \
        "Juan Pérez López, Armero de la Policía Municipal 1 (armero1)"
    entry = look(world, None, lambda uow: [e for e in uow.repo.iter_events()
                                           if e.type == "user.profile_set"][-1])
    assert entry.payload["before"]["name"] == "armero1"


def test_places_and_people_present_replay_from_the_log(world):
    from resguardo.storage import rebuild
    _sonora(world)
    do(world, "admin", registry.add_organization, "MUN9", "Policía Municipal 9", "agency", "SSP",
       time_zone="America/Cancun", city="Cancún, Quintana Roo", address="Av. Tulum 5")
    iid = do(world, "inspector", inspections.plan, "MUN1", date(2025, 3, 4),
             people=PRESENT[:1]).position
    do(world, "inspector", inspections.open_, iid, PRESENT)
    with world.read(None) as uow:
        assert uow.repo.place(uow.repo.org("MUN9").id)["time_zone"] == "America/Cancun"
        scratch = rebuild.replay(uow.repo.iter_events())
        assert rebuild.compare(uow.conn, scratch) == []


def test_nothing_in_the_acta_is_cut_short_a_long_post_make_or_holder_wraps(world):
    """A post, a make and model or a holder's name too long for its column used to be cut
    with '...' (the inspector's post lost its zone, a finding lost the holder's badge):
    the row grows instead, in the people present, the findings, the annex and the
    signatures."""
    post = "Inspector de armamento de la Cuarta Zona Militar con sede en Hermosillo, Sonora"
    with world.work("armero1") as uow:
        registry.register_firearm(uow, "MUN1", "ARM1", FirearmInput(
            serial="HK-0001", make="Heckler & Koch", model="MP5A3 culata retráctil",
            calibre="9x19mm", kind="submachine_gun", folio="RFA-0000001"))
        uow.commit()
    do(world, "armero1", custody.issue, "HK-0001", "P1")
    iid = do(world, "inspector", inspections.plan, "MUN1", date(2025, 3, 4)).position
    do(world, "inspector", inspections.open_, iid, [
        f"Cap. 2/o. Luis Moreno Chávez | {post} | Credencial SEDENA A-4471203",
        "Lic. Verónica Ruiz Domínguez | Directora jurídica de la Policía Municipal de "
        "Hermosillo | INE IDMEX2231847765"])
    do(world, "inspector", inspections.scan, iid, "GLK-A100", location="ARM1")
    do(world, "inspector", inspections.close, iid)
    pdf, _ = do(world, "inspector", inspections.acta, iid)
    pages = _pages(pdf)
    text = "\n".join(pages)
    flat = " ".join(text.split())
    assert "..." not in text
    assert flat.count(post) == 2  # among those present and under the signature line
    assert "Directora jurídica de la Policía Municipal de Hermosillo" in flat
    assert "Heckler & Koch MP5A3 culata retráctil" in flat  # in the annex, whole
    holder = look(world, None, lambda uow: uow.repo.officer(uow.repo.org("MUN1").id, "P1"))
    assert f"{holder.badge} {holder.name}" in flat  # the weapon to present: who holds it
