"""The registration form offers the calibres of the list, by their names in the visitor's
language; a calibre outside it is refused in Spanish naming the closest."""

from __future__ import annotations


def test_the_form_chooses_the_calibre_from_the_list_and_refuses_another(signed_in):
    browser = signed_in("armero1")
    form = browser.get("/firearms/new").text
    assert '<select name="calibre" required>' in form
    assert '<option value="9x19mm">9 × 19 mm (9 mm Luger, Parabellum)</option>' in form
    assert '<option value=".223 Rem">.223 Remington</option>' in form
    values = {"location": "ARM1", "serial": "CAL-1", "make": "Glock", "kind": "pistol"}
    refused = browser.post("/firearms/new", {**values, "calibre": "9x21"})
    assert refused.status_code == 422
    assert "El calibre 9x21 no está en la lista; los más parecidos: 9x19mm" in refused.text
    done = browser.post("/firearms/new", {**values, "calibre": "9mm Parabellum"})
    assert "Arma registrada." in done.text  # a known spelling, stored as its calibre
