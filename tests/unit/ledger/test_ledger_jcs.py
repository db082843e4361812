"""RFC 8785 canonical JSON: the examples of the RFC and round trips through the json module."""

from __future__ import annotations

import json
import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resguardo.ledger import canonical_json
from resguardo.ledger.jcs import format_number


def from_bits(bits: int) -> float:
    return struct.unpack(">d", bits.to_bytes(8, "big"))[0]


# RFC 8785 Appendix B: IEEE 754 bit patterns and their ECMAScript text.
RFC_8785_NUMBERS = [
    (0x0000000000000000, "0"),
    (0x8000000000000000, "0"),
    (0x0000000000000001, "5e-324"),
    (0x8000000000000001, "-5e-324"),
    (0x7FEFFFFFFFFFFFFF, "1.7976931348623157e+308"),
    (0xFFEFFFFFFFFFFFFF, "-1.7976931348623157e+308"),
    (0x4340000000000000, "9007199254740992"),
    (0xC340000000000000, "-9007199254740992"),
    (0x4430000000000000, "295147905179352830000"),
    (0x44B52D02C7E14AF5, "9.999999999999997e+22"),
    (0x44B52D02C7E14AF6, "1e+23"),
    (0x44B52D02C7E14AF7, "1.0000000000000001e+23"),
    (0x444B1AE4D6E2EF4E, "999999999999999700000"),
    (0x444B1AE4D6E2EF4F, "999999999999999900000"),
    (0x444B1AE4D6E2EF50, "1e+21"),
    (0x3EB0C6F7A0B5ED8C, "9.999999999999997e-7"),
    (0x3EB0C6F7A0B5ED8D, "0.000001"),
    (0x41B3DE4355555553, "333333333.3333332"),
    (0x41B3DE4355555554, "333333333.33333325"),
    (0x41B3DE4355555555, "333333333.3333333"),
    (0x41B3DE4355555556, "333333333.3333334"),
    (0x41B3DE4355555557, "333333333.33333343"),
    (0xBECBF647612F3696, "-0.0000033333333333333333"),
    (0x43143FF3C1CB0959, "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "text"), RFC_8785_NUMBERS, ids=[t for _, t in RFC_8785_NUMBERS])
def test_numbers_are_written_as_ecmascript_writes_them(bits: int, text: str) -> None:
    assert format_number(from_bits(bits)) == text


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_are_refused(value: float) -> None:
    with pytest.raises(ValueError):
        canonical_json({"x": value})


def test_the_rfc_8785_example_object_is_canonicalized_exactly() -> None:
    source = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_json(json.loads(source)) == expected.encode("utf-8")


def test_keys_are_sorted_by_utf16_code_units_not_code_points() -> None:
    obj = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    keys = list(json.loads(canonical_json(obj)))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


def test_output_has_no_whitespace_and_nested_objects_are_sorted_too() -> None:
    event = {"b": [1, {"z": None, "a": True}], "a": "x y", "n": -0.0, "i": 4.0}
    assert canonical_json(event) == b'{"a":"x y","b":[1,{"a":true,"z":null}],"i":4,"n":0}'


def test_integers_a_double_cannot_hold_exactly_are_refused() -> None:
    assert canonical_json(2**53 - 1) == b"9007199254740991"
    assert canonical_json(2**53) == b"9007199254740992"
    assert canonical_json(10**21) == b"1e+21"
    with pytest.raises(ValueError):
        canonical_json(2**53 + 1)
    with pytest.raises(ValueError):
        canonical_json(10**400)


def test_unserializable_values_and_keys_are_refused() -> None:
    with pytest.raises(TypeError):
        canonical_json({"when": object()})
    with pytest.raises(TypeError):
        canonical_json({1: "x"})
    with pytest.raises(ValueError):
        canonical_json("\ud800")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


def js_loads(text: bytes) -> object:
    """Parse JSON as an ECMAScript reader does: every number beyond 2**53 is a double."""
    return json.loads(text, parse_int=lambda s: int(s) if abs(int(s)) < 2**53 else float(s))


@given(json_values)
def test_canonical_json_parses_back_to_an_equal_value(value: object) -> None:
    assert js_loads(canonical_json(value)) == value


@given(json_values)
def test_canonicalizing_canonical_json_changes_nothing(value: object) -> None:
    once = canonical_json(value)
    assert canonical_json(js_loads(once)) == once


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_float_round_trips_through_its_ecmascript_text(value: float) -> None:
    assert float(format_number(value)) == value
