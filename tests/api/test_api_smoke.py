from __future__ import annotations


def test_an_armorer_issues_and_returns_a_firearm(api, firearm_id):
    fid = firearm_id("GLK-A100")
    r = api.post("armero1", f"/firearms/{fid}/issue", {"badge": "P1"})
    assert r.status_code == 201, r.text
    assert r.json()["type"] == "custody.issued"
    r = api.get("armero1", f"/firearms/{fid}")
    assert r.json()["status"] == "issued" and r.json()["custodian"] == "P1"
    r = api.post("armero1", f"/firearms/{fid}/return", {"location": "ARM1"})
    assert r.status_code == 201, r.text
