"""The people present at a revista through the API: objects or 'name | post | identification'
lines, all three parts required, the refusal naming the person and the part."""

from __future__ import annotations

from datetime import date

from resguardo.services import inspections


def test_people_present_are_objects_or_lines_and_a_missing_part_is_named(api):
    with api.app.work("inspector") as uow:
        iid = inspections.plan(uow, "MUN1", date(2025, 3, 4)).position
        uow.commit()
    ortega = {"name": "Cap. Julián Ortega", "post": "Inspector de la 15/a. Zona Militar",
              "identification": "Credencial SEDENA A-123456"}
    missing = api.post("inspector", f"/inspections/{iid}/open",
                       {"people": [ortega, {**ortega, "post": ""}]})
    assert missing.status_code == 422
    assert "people[2].post" in missing.text
    loose = api.post("inspector", f"/inspections/{iid}/open",
                     {"people": [ortega, "Lic. Marta Díaz"]})
    assert loose.status_code == 422 and "people[2]" in loose.text
    assert api.get("inspector", f"/inspections/{iid}").json()["state"] == "planned"
    opened = api.post("inspector", f"/inspections/{iid}/open", {"people": [
        ortega, "Lic. Marta Díaz | Directora jurídica municipal | INE IDMEX1234567890"]})
    assert opened.status_code == 201, opened.text
    shown = api.get("inspector", f"/inspections/{iid}").json()
    assert shown["people"] == [ortega, {"name": "Lic. Marta Díaz",
                                        "post": "Directora jurídica municipal",
                                        "identification": "INE IDMEX1234567890"}]


def test_an_admin_sets_an_organizations_zone_and_place_and_its_agencies_inherit_the_zone(api):
    bad = api.post("admin", "/organizations/SSP/place", {"time_zone": "America/Atlantis"})
    assert bad.status_code == 422 and "time_zone" in bad.text
    refused = api.post("jefe1", "/organizations/MUN1/place", {"city": "Hermosillo"})
    assert refused.status_code == 403
    done = api.post("admin", "/organizations/SSP/place", {"time_zone": "America/Hermosillo"})
    assert done.status_code == 201, done.text
    placed = api.post("admin", "/organizations/MUN1/place",
                      {"city": "Hermosillo, Sonora", "address": "Blvd. Luis Encinas 100"})
    assert placed.status_code == 201
    mun1 = api.get("jefe1", "/organizations/MUN1").json()
    assert (mun1["time_zone"], mun1["city"], mun1["address"]) == (
        "America/Hermosillo", "Hermosillo, Sonora", "Blvd. Luis Encinas 100")
    assert api.get("admin", "/organizations/MUN3").json()["time_zone"] == "America/Mexico_City"


def test_an_admin_sets_a_users_full_name_and_post_the_user_cannot(api):
    body = {"name": "Juan Pérez López", "post": "Armero de la Policía Municipal 1"}
    assert api.post("armero1", "/users/armero1/profile", body).status_code == 403
    done = api.post("admin", "/users/armero1/profile", body)
    assert done.status_code == 200, done.text
    assert (done.json()["display_name"], done.json()["post"]) == (body["name"], body["post"])
    blank = api.post("admin", "/users/armero1/profile", {"post": " "})
    assert blank.status_code == 422 and "post" in blank.text
