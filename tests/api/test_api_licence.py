"""The collective licence over HTTP: an agency's armorer puts its weapon on the state's
LOC, its chief an officer; another agency's armorer gets 404 for the weapon, and a
licence beyond his scope is not found."""

from __future__ import annotations

from datetime import date

from resguardo.services import registry

from world import do


def test_attach_and_detach_over_the_api_within_scope(api, firearm_id):
    do(api.app, "admin", registry.add_licence, "LOC-SSP-1", "SSP", ["MUN1", "MUN2"],
       date(2025, 1, 1), date(2030, 1, 1))
    do(api.app, "admin", registry.add_licence, "LOC-SSP2-9", "SSP2", ["MUN3"],
       date(2025, 1, 1), date(2030, 1, 1))
    fid = firearm_id("GLK-A100")
    # the insider: MUN2's armorer, MUN1's weapon
    r = api.post("armero2", f"/firearms/{fid}/licence", {"licence": "LOC-SSP-1",
                                                         "reason": "mía"})
    assert r.status_code == 404, r.text
    r = api.post("armero1", f"/firearms/{fid}/licence", {"licence": "LOC-SSP2-9",
                                                         "reason": "otra"})
    assert r.status_code == 404 and "licence" in r.text
    r = api.post("armero1", f"/firearms/{fid}/licence", {"licence": "LOC-SSP-1",
                                                         "reason": "Manifestada ZM15"})
    assert r.status_code == 201 and r.json()["type"] == "licence.firearm_attached", r.text
    got = api.get("armero1", f"/firearms/{fid}").json()
    assert got["licence_id"] is not None
    # the armorer sees the state's licence it carries under
    numbers = [x["number"] for x in api.get("armero1", "/licences").json()["items"]]
    assert numbers == ["LOC-SSP-1"]
    r = api.post("armero1", f"/firearms/{fid}/licence", {"licence": None,
                                                         "reason": "Error de captura"})
    assert r.status_code == 201 and r.json()["payload"]["licence_id"] is None, r.text
    # officers: the chief of the agency, not the armorer
    with api.app.read(None) as uow:
        oid = uow.repo.officer(uow.repo.org("MUN1").id, "P1").id
    r = api.post("armero1", f"/officers/{oid}/licence", {"licence": "LOC-SSP-1",
                                                         "reason": "Alta"})
    assert r.status_code == 403, r.text
    r = api.post("jefe2", f"/officers/{oid}/licence", {"licence": "LOC-SSP-1", "reason": "x"})
    assert r.status_code == 404, r.text
    r = api.post("jefe1", f"/officers/{oid}/licence", {"licence": "LOC-SSP-1",
                                                       "reason": "Alta de personal"})
    assert r.status_code == 201 and r.json()["type"] == "licence.officer_attached", r.text
