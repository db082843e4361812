"""Over HTTP: a correction of a serial answers an entry.correction_requested; the chief
approves or rejects it on the weapon; the armorer who asked cannot."""

from __future__ import annotations


def test_an_identity_correction_is_requested_then_approved_by_the_chief(api, firearm_id):
    fid = firearm_id("GLK-A100")
    asked = api.post("armero1", f"/events/{fid}/corrections",
                     {"changes": {"serial": "ZZ999999"}, "reason": "Serie mal capturada"})
    assert asked.status_code == 201, asked.text
    assert asked.json()["type"] == "entry.correction_requested"
    assert api.get("armero1", f"/firearms/{fid}").json()["serial"] == "GLK-A100"
    pending = api.get("jefe1", "/requests?kind=correction").json()["items"]
    assert [(r["id"], r["serial"], r["state"]) for r in pending] == [
        (asked.json()["position"], "GLK-A100", "pending")]
    assert api.post("armero1", f"/firearms/{fid}/correction/approve").status_code == 403
    assert api.post("jefe2", f"/firearms/{fid}/correction/approve").status_code == 404
    approved = api.post("jefe1", f"/firearms/{fid}/correction/approve")
    assert approved.status_code == 201, approved.text
    assert approved.json()["payload"]["request_id"] == asked.json()["position"]
    assert api.get("armero1", f"/firearms/{fid}").json()["serial"] == "ZZ999999"
    again = api.post("jefe1", f"/firearms/{fid}/correction/approve")
    assert again.status_code == 404


def test_a_rejected_identity_correction_leaves_the_weapon_as_it_was(api, firearm_id):
    fid = firearm_id("GLK-A200")
    assert api.post("armero1", f"/events/{fid}/corrections",
                    {"changes": {"make": "Beretta"}, "reason": "Marca errónea"}
                    ).status_code == 201
    rejected = api.post("jefe1", f"/firearms/{fid}/correction/reject", {"reason": "Es Glock"})
    assert rejected.status_code == 201 and rejected.json()["type"] == "request.rejected"
    assert api.get("armero1", f"/firearms/{fid}").json()["make"] == "Glock"
    one_step = api.post("armero1", f"/events/{fid}/corrections",
                        {"changes": {"model": "19"}, "reason": "Modelo mal capturado"})
    assert one_step.json()["type"] == "entry.corrected"
