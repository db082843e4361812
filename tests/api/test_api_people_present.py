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
