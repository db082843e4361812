"""Over HTTP a serial typed in another form is registered in its one form; the weapon's
history gives what was typed (SQLite and PostgreSQL)."""

from __future__ import annotations


def test_a_serial_registered_over_http_is_in_its_form_and_its_history_says_as_typed(api):
    body = {"location": "ARM1", "serial": "glk z 901", "make": "Glock", "calibre": "9x19mm",
            "kind": "pistol"}
    r = api.post("armero1", "/firearms", body)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["serial"] == "GLKZ901"
    history = api.get("armero1", f"/firearms/{created['id']}/history").json()
    assert (history["serial"], history["serial_as_typed"]) == ("GLKZ901", "glk z 901")
    assert history["history"][0]["serial_as_typed"] == "glk z 901"
    again = api.post("armero2", "/firearms", {**body, "agency": "MUN2", "serial": "GLK-Z-901"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "duplicate_serial"
    plain = api.post("armero1", "/firearms", {**body, "serial": "GLK-Z902"}).json()
    shown = api.get("armero1", f"/firearms/{plain['id']}/history").json()
    assert (shown["serial"], shown["serial_as_typed"]) == ("GLK-Z902", None)
