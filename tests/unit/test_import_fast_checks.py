"""The import's cheap checks say what the general ones say.

A row whose text is all printable skips the control-character search
(``RowImport.cell_problems``): exact only while every character the search
looks for is unprintable. A batch's entry secrets are drawn in one call
(``events.new_secrets``): each as ``new_secret`` makes it.
"""

from __future__ import annotations

import re

from resguardo.domain.events import SECRET_BYTES, new_secret, new_secrets
from resguardo.sheets.guard import CONTROL_CHARACTERS


def test_every_character_the_control_search_finds_is_unprintable() -> None:
    found = [c for c in map(chr, range(0x110000)) if CONTROL_CHARACTERS.fullmatch(c)]
    assert found, "the class finds characters"
    printable = [f"U+{ord(c):04X}" for c in found if c.isprintable()]
    assert printable == [], "a printable row would skip the search for these"
    # the separator the row is joined with for the check is neither
    assert " ".isprintable() and CONTROL_CHARACTERS.search(" ") is None


def test_a_batch_of_secrets_is_as_many_fresh_secrets_as_asked() -> None:
    shape = re.compile(f"[0-9a-f]{{{2 * SECRET_BYTES}}}")
    for count in (0, 1, 2, 500):
        drawn = list(new_secrets(count))
        assert len(drawn) == count
        assert all(shape.fullmatch(s) for s in drawn)
        assert len(set(drawn)) == count
    assert shape.fullmatch(new_secret())
    assert set(new_secrets(200)).isdisjoint(new_secrets(200))
