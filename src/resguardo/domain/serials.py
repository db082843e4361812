"""Serial numbers: the form they are shown in, the matching key, look-alike characters.

Two serials that differ only in case or separators are the same serial
(``serial_key``). A registered serial is recorded and shown in one form
(``serial_display``: upper case, no spaces, punctuation kept); what was typed,
when it differs, is kept beside it in the registration (``serial_as_typed``).
Look-alike characters are *not* folded for exact matching; they are cheap
substitutions when suggesting matches (reconciliation) and in trace.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-./\\_]+")

#: Groups of characters that people and OCR confuse on stamped steel.
LOOKALIKE_GROUPS: tuple[str, ...] = ("O0DQ", "I1LT", "S5", "B8", "Z2", "G6")

_LOOKALIKE: dict[str, frozenset[str]] = {}
for _group in LOOKALIKE_GROUPS:
    for _ch in _group:
        _LOOKALIKE[_ch] = _LOOKALIKE.get(_ch, frozenset()) | frozenset(_group) - {_ch}


def serial_key(serial: str) -> str:
    """Normalized key: upper case, spaces, hyphens, dots, slashes and underscores removed."""
    return _SEPARATORS.sub("", serial).upper()


def serial_display(serial: str) -> str:
    """The form a registered serial is shown in: upper case, runs of whitespace removed,
    dashes and other punctuation kept (``"glk 900 01"`` -> ``"GLK90001"``, ``"GLK-A100"``
    stays). Its ``serial_key`` is the typed serial's: shown and typed match alike."""
    return "".join(serial.split()).upper()


def is_lookalike(a: str, b: str) -> bool:
    """True when the two (upper-case) characters are in one look-alike group."""
    return b in _LOOKALIKE.get(a, frozenset())


def lookalikes(ch: str) -> frozenset[str]:
    """The characters that ``ch`` is commonly confused with."""
    return _LOOKALIKE.get(ch, frozenset())


def make_key(make: str) -> str:
    """Normalized make for the (make, serial) uniqueness rule: case and spacing folded."""
    return " ".join(make.split()).upper()
