"""The bulk import's payload texts are the canonical JSON of the payload the domain decides."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resguardo.domain import registry as rules
from resguardo.domain.codes import FirearmKind, OrgKind
from resguardo.domain.entities import Organization
from resguardo.domain.errors import ValidationFailed
from resguardo.domain.events import canonical
from resguardo.ledger.jcs import canonical_json
from resguardo.services.import_plain import LIMITS
from resguardo.storage.import_batch import registration_of, registration_text

AGENCY = Organization(id=3, code="MUN", name="Policía Municipal", kind=OrgKind.AGENCY,
                      parent_id=2, path="/1/2/3/")
TODAY = date(2026, 1, 1)
# Quotes, backslashes, accents, a no-break space, characters beyond U+FFFF and the
# separators RFC 8785 leaves alone, besides letters and digits.
ODD = st.sampled_from(['"', "\\", "/", "ñ", "É", "\u00a0", "\u2028", "😀", "𝔸", "\u007f", "'",
                       "<", "&", "€", "ß", "\u0301"])
TEXT = st.text(st.one_of(st.characters(min_codepoint=32, max_codepoint=0x10FFFF,
                                       blacklist_categories=("Cs", "Cc")), ODD), max_size=30)


def jcs_text(value):  # type: ignore[no-untyped-def]
    return canonical_json(value).decode()


def text_of(new):  # type: ignore[no-untyped-def]
    """The text ``registration_text`` builds from the parts of a domain registration."""
    _, fields, location_id, _ = registration_of(new)
    notes = new.payload.get("notes")
    return registration_text(fields, location_id, canonical(notes) if notes else None,
                             new.payload.get("serial_as_typed"))


@settings(max_examples=300, deadline=None)
@given(serial=TEXT, make=TEXT, calibre=TEXT, model=TEXT, folio=TEXT, supplier=TEXT,
       note=TEXT, label=TEXT, licence=st.one_of(st.none(), st.integers(1, 2**40)),
       acquired=st.one_of(st.none(), st.dates(max_value=TODAY)),
       kind=st.sampled_from(list(FirearmKind)), location=st.integers(1, 2**40))
def test_the_registration_text_is_the_canonical_payload(serial, make, calibre, model, folio,
                                                        supplier, note, label, licence,
                                                        acquired, kind, location):
    data = rules.FirearmInput(serial=serial, make=make, calibre=calibre, kind=kind,
                              model=model, folio=folio, supplier=supplier, licence_id=licence,
                              acquired_on=acquired, notes={label: note} if note else None)
    try:
        new = rules.register_firearm(AGENCY, data, location, TODAY)
    except ValidationFailed:
        return
    assert text_of(new) == canonical(new.payload)
    assert registration_of(new)[0] == canonical(new.payload)


OPTIONAL_TEXT = st.one_of(st.none(), TEXT)


@settings(max_examples=400, deadline=None)
@given(serial=TEXT, make=TEXT, model=OPTIONAL_TEXT, calibre=TEXT, folio=OPTIONAL_TEXT,
       barrel=OPTIONAL_TEXT, ballistic=OPTIONAL_TEXT, supplier=OPTIONAL_TEXT,
       purchase=OPTIONAL_TEXT, acquired=OPTIONAL_TEXT,
       licence=st.one_of(st.none(), st.integers(1, 2**40)), agency=st.integers(1, 2**40),
       kind=st.sampled_from([k.value for k in FirearmKind]), location=st.integers(1, 2**40),
       notes=st.one_of(st.none(), st.dictionaries(TEXT, TEXT, max_size=3)))
def test_the_fast_registration_text_is_the_canonical_domain_payload(
        serial, make, model, calibre, folio, barrel, ballistic, supplier, purchase, acquired,
        licence, agency, kind, location, notes):
    """Whatever the values, the import's hand-written text is RFC 8785 (``ledger.jcs``) of
    the payload the domain's one builder describes, the serial as typed included."""
    fields, typed = rules.registration_fields(serial, make, model, calibre, kind, folio, barrel,
                                              ballistic, licence, acquired, supplier, purchase,
                                              agency)
    payload = rules.registration_payload(fields, location, typed, notes)
    fast = registration_text(fields, location, jcs_text(notes) if notes else None, typed)
    assert fast == jcs_text(payload)
    assert (typed is not None) == ("serial_as_typed" in payload) == (fields[0] != serial)


def test_a_serial_typed_in_another_form_is_recorded_shown_and_kept_as_typed():
    data = rules.FirearmInput(serial="  glk 900 01 ", make="Glock", calibre="9x19mm",
                              kind="pistol")
    payload = rules.register_firearm(AGENCY, data, 4, TODAY).payload
    assert (payload["serial"], payload["serial_key"], payload["serial_as_typed"]) == (
        "GLK90001", "GLK90001", "glk 900 01")
    assert text_of(rules.register_firearm(AGENCY, data, 4, TODAY)) == canonical(payload)


def test_a_serial_typed_in_its_shown_form_records_no_as_typed():
    data = rules.FirearmInput(serial="GLK-A100", make="Glock", calibre="9x19mm", kind="pistol")
    payload = rules.register_firearm(AGENCY, data, 4, TODAY).payload
    assert payload["serial"] == "GLK-A100"
    assert "serial_as_typed" not in payload


@pytest.mark.parametrize("field", sorted(set(LIMITS) - {"calibre"}))  # a calibre is a word
def test_the_plain_reading_uses_the_domains_own_limits(field):                # of a list
    """A value at the limit is registered; one character more is refused by the domain."""
    base = {"serial": "AB-1", "make": "Glock", "calibre": "9x19mm"}
    for length, accepted in ((LIMITS[field], True), (LIMITS[field] + 1, False)):
        values = {**base, field: "X" * length}
        data = rules.FirearmInput(kind="pistol", **values)  # type: ignore[arg-type]
        if accepted:
            rules.register_firearm(AGENCY, data, 4, TODAY)
        else:
            with pytest.raises(ValidationFailed):
                rules.register_firearm(AGENCY, data, 4, TODAY)


def test_a_serial_whose_recorded_form_outgrows_the_limit_is_refused():
    """"ß" is "SS" in upper case: 30 typed characters would record 60."""
    data = rules.FirearmInput(serial="ß" * 30, make="Glock", calibre="9x19mm", kind="pistol")
    with pytest.raises(ValidationFailed, match="serial is longer than 40 characters"):
        rules.register_firearm(AGENCY, data, 4, TODAY)
    fits = rules.FirearmInput(serial="ß" * 20, make="Glock", calibre="9x19mm", kind="pistol")
    assert rules.register_firearm(AGENCY, fits, 4, TODAY).payload["serial"] == "SS" * 20
