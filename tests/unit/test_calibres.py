"""Calibres as a vocabulary: every spelling maps to its calibre, look-alikes stay apart,
unknown ones are refused naming the closest."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resguardo.domain import calibres
from resguardo.domain.errors import ValidationFailed

SPELLINGS = [(c.code, name) for c in calibres.CALIBRES
             for name in (c.code, c.es, c.en, *c.aliases)]


def vary(text: str, data: st.DataObject) -> str:
    """The same spelling as people type it: case, spaces, hyphens, comma for the point."""
    out = []
    for ch in text:
        if ch.isalpha():
            ch = ch.upper() if data.draw(st.booleans()) else ch.lower()
        elif ch == " ":
            ch = data.draw(st.sampled_from([" ", "  ", "", "-", "_"]))
        elif ch == "." and out and out[-1].isdigit():
            ch = data.draw(st.sampled_from([".", ","]))
        out.append(ch)
    pad = data.draw(st.sampled_from(["", " ", "  "]))
    return pad + "".join(out) + pad


@given(st.sampled_from(SPELLINGS), st.data())
def test_every_alias_maps_to_its_canonical_calibre(spelling, data):
    code, name = spelling
    assert calibres.parse_calibre(vary(name, data)) == code


@given(st.sampled_from([n for c, n in SPELLINGS if c == ".223 Rem"]), st.data())
def test_223_remington_never_maps_to_5_56_nato(name, data):
    assert calibres.parse_calibre(vary(name, data)) == ".223 Rem"


@given(st.sampled_from([n for c, n in SPELLINGS if c == "5.56x45mm"]), st.data())
def test_5_56_nato_never_maps_to_223_remington(name, data):
    assert calibres.parse_calibre(vary(name, data)) == "5.56x45mm"


@pytest.mark.parametrize("text", ["9mm", "9 mm Luger", "9MM PARABELLUM", "9 X 19 MM", "9x19"])
def test_the_names_of_9x19_are_one_calibre(text):
    assert calibres.parse_calibre(text) == "9x19mm"


@pytest.mark.parametrize(("text", "near"), [
    ("9x21", "9x19mm"), (".38", ".38 Special"), ("7.62", "7.62x39mm"), ("5.56x46", "5.56x45mm")])
def test_an_unknown_calibre_is_refused_naming_the_closest(text, near):
    with pytest.raises(ValidationFailed) as refused:
        calibres.parse_calibre(text)
    assert refused.value.details["field"] == "calibre"
    assert near in refused.value.details["closest"] and repr(text) in str(refused.value)


def test_no_spelling_names_two_calibres():
    folded: dict[str, str] = {}
    for code, name in SPELLINGS:
        assert folded.setdefault(calibres.fold_calibre(name), code) == code, name
