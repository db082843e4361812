"""POST /ammunition/issue refuses rounds to an officer who may not hold a weapon (409,
officer_not_eligible) and lets them through under the chief's written override."""

from __future__ import annotations


def test_rounds_follow_eligibility_and_the_override(api):
    base = {"location": "ARM1", "calibre": "9x19mm", "lot": "L-1"}
    assert api.post("armero1", "/ammunition/receive", {**base, "quantity": 500}
                    ).status_code == 201
    officer = api.get("jefe1", "/officers?q=P1").json()["items"][0]
    assert officer["badge"] == "P1"
    assert api.post("jefe1", f"/officers/{officer['id']}/suspend",
                    {"reason": "investigación"}).status_code == 201
    refused = api.post("armero1", "/ammunition/issue", {**base, "badge": "P1", "quantity": 30})
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "officer_not_eligible"
    assert error["details"]["problems"] == ["officer is suspended"]
    assert api.get("jefe1", "/ammunition").json()["held"] == []
    assert api.post("jefe1", f"/officers/{officer['id']}/override",
                    {"reason": "Operativo especial autorizado", "hours": 4}).status_code == 201
    allowed = api.post("armero1", "/ammunition/issue", {**base, "badge": "P1", "quantity": 30})
    assert allowed.status_code == 201, allowed.text
    assert allowed.json()["payload"]["override_id"]
