"""RFC 8785 JSON Canonicalization Scheme (JCS), the byte form of every ledger leaf."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

# Beyond this not every integer is a double, so an ECMAScript reader could silently round
# it and two implementations would disagree about the leaf bytes.
MAX_SAFE_INTEGER = 2**53 - 1


def canonical_json(obj: object) -> bytes:
    """Serialize str/int/float/bool/None/list/tuple/dict as RFC 8785 canonical JSON (UTF-8).

    JSON numbers are IEEE 754 doubles, so integers beyond +/-(2**53 - 1) are accepted only
    when a double holds them exactly (and are then written as that double). Raises
    ValueError for NaN, infinities, inexact integers and strings that are not valid Unicode
    (lone surrogates); TypeError for other types or non-str keys.
    """
    if _plain(obj):
        # Only strings, safe integers, booleans, nulls, lists and objects whose keys sort the
        # same by code point as by UTF-16 unit: json.dumps writes exactly the JCS bytes.
        text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    else:
        parts: list[str] = []
        _serialize(obj, parts)
        text = "".join(parts)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("string contains a lone surrogate, not valid Unicode") from exc


def _plain(obj: object) -> bool:
    """True when the fast path gives the canonical form (no floats, big ints or odd keys)."""
    if obj is None or obj is True or obj is False or type(obj) is str:
        return True
    if type(obj) is int:
        return -MAX_SAFE_INTEGER <= obj <= MAX_SAFE_INTEGER  # type: ignore[operator]
    if type(obj) is dict:
        for key, value in obj.items():
            if type(key) is not str or (key and max(key) >= "\ud800") or not _plain(value):
                return False
        return True
    if type(obj) is list or type(obj) is tuple:
        return all(_plain(item) for item in obj)  # type: ignore[attr-defined]
    return False


def _serialize(obj: object, out: list[str]) -> None:
    # bool before int: True is an int in Python.
    if obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, str):
        out.append(_string(obj))
    elif isinstance(obj, int):
        if abs(obj) <= MAX_SAFE_INTEGER:
            out.append(str(int(obj)))
        else:
            out.append(_large_integer(obj))
    elif isinstance(obj, float):
        out.append(format_number(obj))
    elif isinstance(obj, list | tuple):
        out.append("[")
        for i, item in enumerate(obj):
            if i:
                out.append(",")
            _serialize(item, out)
        out.append("]")
    elif isinstance(obj, Mapping):
        for key in obj:
            if not isinstance(key, str):
                raise TypeError(f"object keys must be str, not {type(key).__name__}")
        out.append("{")
        # RFC 8785 §3.2.3: order by UTF-16 code units; big-endian bytes compare the same way.
        for i, key in enumerate(sorted(obj, key=_utf16_key)):
            if i:
                out.append(",")
            out.append(_string(key))
            out.append(":")
            _serialize(obj[key], out)
        out.append("}")
    else:
        raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def _large_integer(value: int) -> str:
    try:
        as_double = float(value)
    except OverflowError:
        raise ValueError(f"integer {value} does not fit in a JSON number") from None
    if int(as_double) != value:
        raise ValueError(f"integer {value} is not exactly representable as a JSON number")
    return format_number(as_double)


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _string(value: str) -> str:
    # json.dumps without ASCII escaping writes exactly the JCS escapes: \" \\ \b \f \n \r \t
    # and \u00xx (lowercase) for the other controls; everything else stays literal.
    return json.dumps(value, ensure_ascii=False)


def format_number(value: float) -> str:
    """Format a float as ECMAScript Number.prototype.toString does (RFC 8785 §3.2.2.3)."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"{value!r} has no JSON representation")
    if value == 0:
        return "0"  # also for -0.0
    sign = "-" if value < 0 else ""
    # repr gives the shortest digit string that round-trips, which is what ECMAScript asks for.
    mantissa, _, exp_text = repr(abs(value)).partition("e")
    exponent = int(exp_text) if exp_text else 0
    int_part, _, frac_part = mantissa.partition(".")
    digits = (int_part + frac_part).lstrip("0")
    stripped = digits.rstrip("0")
    trailing = len(digits) - len(stripped)
    digits = stripped
    k = len(digits)
    # value = digits * 10**(n - k), with n the ECMAScript decimal point position.
    n = k + exponent - len(frac_part) + trailing
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        exp_str = ("+" if e >= 0 else "-") + str(abs(e))
        text = digits + "e" + exp_str if k == 1 else digits[0] + "." + digits[1:] + "e" + exp_str
    return sign + text
