"""The form a registered serial is shown in (``domain.serials.serial_display``)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resguardo.domain import corrections as rules
from resguardo.domain.errors import ValidationFailed
from resguardo.domain.serials import serial_display, serial_key

# Letters of any case and script, digits, every kind of separator and whitespace.
SERIALS = st.text(st.one_of(
    st.characters(blacklist_categories=("Cs",)),
    st.sampled_from([" ", "\t", "\u00a0", "\u3000", "-", ".", "/", "\\", "_", "#", "ß",
                     "ǅ", "ŉ", "ﬀ", "İ", "ı"])), max_size=40)


@pytest.mark.parametrize(("typed", "shown"), [
    ("glk 900 01", "GLK90001"),
    ("GLK-A100", "GLK-A100"),
    ("  ab-12 / x ", "AB-12/X"),
    ("a\tb\u00a0c", "ABC"),
    ("SIG.P320_7", "SIG.P320_7"),
])
def test_the_shown_form_is_upper_case_without_spaces_punctuation_kept(typed, shown):
    assert serial_display(typed) == shown


@settings(max_examples=500)
@given(SERIALS)
def test_the_shown_form_is_its_own_shown_form(serial):
    assert serial_display(serial_display(serial)) == serial_display(serial)


@settings(max_examples=500)
@given(SERIALS)
def test_the_shown_form_matches_as_the_typed_serial_does(serial):
    """Trace, counts and the duplicate check find a weapon by the typed serial's key:
    the shown form has the very same key."""
    assert serial_key(serial_display(serial)) == serial_key(serial)


@settings(max_examples=300)
@given(SERIALS)
def test_the_shown_form_has_no_whitespace_and_no_lower_case_letter_upper_case_has(serial):
    shown = serial_display(serial)
    assert not any(c.isspace() for c in shown)
    assert shown == shown.upper()


def test_serials_differing_only_in_punctuation_keep_apart_in_the_shown_form():
    """An investigator reads "AB-12" and "AB.12" as stamped; both match one key."""
    assert serial_display("ab-12") != serial_display("ab.12")
    assert serial_key("ab-12") == serial_key("ab.12")


REGISTERED = {"serial": "GLK-A100", "serial_key": "GLKA100", "make": "Glock",
              "make_key": "GLOCK", "serial_as_typed": "glk-a100"}


def test_a_corrected_serial_is_recorded_in_its_form_with_what_was_typed():
    [asked] = rules.correct(7, "firearm.registered", REGISTERED, {"serial": " zz 99 "},
                            "Serie mal capturada", "firearm", 7, 3)
    assert asked.payload["changes"] == {"serial": "ZZ99", "serial_key": "ZZ99"}
    assert asked.payload["serial_as_typed"] == "zz 99"
    approved = rules.approve_identity(asked.payload, REGISTERED, 9, 1, 2, "ok", 3, 7)
    assert approved.payload["serial_as_typed"] == "zz 99"
    now = rules.apply_corrections(REGISTERED, [approved.payload])
    assert (now["serial"], now["serial_as_typed"]) == ("ZZ99", "zz 99")


def test_a_serial_corrected_as_shown_drops_the_registrations_as_typed():
    [asked] = rules.correct(7, "firearm.registered", REGISTERED, {"serial": "ZZ-99"},
                            "Serie mal capturada", "firearm", 7, 3)
    assert "serial_as_typed" not in asked.payload
    approved = rules.approve_identity(asked.payload, REGISTERED, 9, 1, 2, "ok", 3, 7)
    now = rules.apply_corrections(REGISTERED, [approved.payload])
    assert now["serial"] == "ZZ-99" and "serial_as_typed" not in now
    # a correction of another field leaves the as-typed serial alone
    kept = rules.apply_corrections(REGISTERED, [{"changes": {"model": "17"}}])
    assert kept["serial_as_typed"] == "glk-a100"


def test_a_correction_to_the_same_serial_typed_another_way_is_refused():
    with pytest.raises(ValidationFailed, match="equal the recorded"):
        rules.correct(7, "firearm.registered", REGISTERED, {"serial": "glk-a 100"},
                      "Serie mal capturada", "firearm", 7, 3)
