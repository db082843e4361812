"""The API registers a weapon with a calibre of the list, or refuses naming the closest."""

from __future__ import annotations


def test_a_spelling_is_stored_as_its_calibre_and_an_unknown_one_is_refused(api):
    base = {"location": "ARM1", "make": "Colt", "kind": "rifle"}
    done = api.post("armero1", "/firearms", {**base, "serial": "API-C1", "calibre": ".223 Remington"})
    assert done.status_code == 201, done.text
    assert done.json()["calibre"] == ".223 Rem"
    refused = api.post("armero1", "/firearms", {**base, "serial": "API-C2", "calibre": "5.56x46"})
    assert refused.status_code == 422
    details = refused.json()["error"]["details"]
    assert details["field"] == "calibre" and details["closest"][0] == "5.56x45mm"
