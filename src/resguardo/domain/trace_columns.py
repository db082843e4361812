"""Bit-parallel edit distance over every serial of one length at once.

Each serial length has, per position and folded character, a Python ``int``
whose bit *r* is set when row *r* has that character there. The edit-distance
table between a query and all rows is then computed with whole-int bit
operations, each cell's value kept as saturating thermometer bit-planes
(plane *k* holds the rows whose value is at least *k*). Used by trace for
queries the deletion index cannot answer: a known prefix, suffix or middle
only, many unreadable characters, or a large maximum distance.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator


def set_bits(bits: int) -> Iterator[int]:
    """Positions of the set bits of ``bits``, lowest first."""
    digits = bin(bits)[:1:-1]
    pos = digits.find("1")
    while pos >= 0:
        yield pos
        pos = digits.find("1", pos + 1)


def _or_bits(column: dict[str, int], text: str, shift: int) -> None:
    """For each character of ``text``, OR the bits of its positions (shifted) into ``column``."""
    table = dict.fromkeys(map(ord, set(text)), "0")
    for code in table:
        table[code] = "1"
        ch = chr(code)
        column[ch] = column.get(ch, 0) | int(text.translate(table), 2) << shift
        table[code] = "0"


class LengthGroup:
    """Serials of one length as bit columns: bit r of ``columns[p][c]`` is row r's char at p."""

    __slots__ = ("rows", "alive", "columns", "makes")

    def __init__(self, length: int) -> None:
        self.rows = array("I")
        self.alive = 0
        self.columns: list[dict[str, int]] = [{} for _ in range(length)]
        self.makes: dict[int, int] = {}

    def extend(self, entries: list[tuple[int, str, int]]) -> int:
        """Append (slot, folded key, make code) rows; returns the first new row number."""
        base = len(self.rows)
        self.rows.extend(slot for slot, _, _ in entries)
        for position, column in enumerate(self.columns):
            # Reversed, so that row 0 is the lowest bit of int(..., 2).
            text = "".join([folded[position] for _, folded, _ in reversed(entries)])
            _or_bits(column, text, base)
        makes: dict[str, int] = {}
        _or_bits(makes, "".join([chr(make) for _, _, make in reversed(entries)]), 0)
        for ch, bits in makes.items():
            self.makes[ord(ch)] = self.makes.get(ord(ch), 0) | bits << base
        self.alive |= ((1 << len(entries)) - 1) << base
        return base

    def distances(
        self,
        pattern: str,
        *,
        wildcard: str,
        known_start: bool,
        known_end: bool,
        everyone: int,
        hard: int,
    ) -> list[int] | None:
        """Thermometer planes [>=1, ..., >=hard+1] of the unit edit distance of every row.

        ``pattern`` is the folded query body; ``wildcard`` matches any
        character at no cost; look-alikes are equal after folding, so this
        is a lower bound of the weighted distance in whole edits. Rows not
        in ``everyone`` are left out. Returns None when no row is within
        ``hard``.
        """
        levels = hard + 1
        length = len(self.columns)
        columns = self.columns
        if known_start:
            order = list(range(length))
        elif known_end:
            pattern, order = pattern[::-1], list(range(length - 1, -1, -1))
        else:
            order = list(range(length))
        free_start = not known_start and not known_end
        free_end = not (known_start and known_end)
        full = [everyone] * levels

        def at_least(value: int) -> list[int]:
            return [everyone if value > k else 0 for k in range(levels)] if value <= hard else full

        if free_start:
            prev = [[0] * levels] * (length + 1)
        else:
            prev = [at_least(j) for j in range(length + 1)]
        for i in range(1, len(pattern) + 1):
            ch = pattern[i - 1]
            cur = [full] * (length + 1)
            cur[0] = left = at_least(i)
            lo, hi = (1, length) if free_start else (max(1, i - hard), min(length, i + hard))
            if lo > 1:
                left = full
            none_close = cur[0][hard]
            for j in range(lo, hi + 1):
                diag, up = prev[j - 1], prev[j]
                miss = 0 if ch == wildcard else everyone & ~columns[order[j - 1]].get(ch, 0)
                cell = [diag[0] | miss]
                for k in range(1, levels):
                    cell.append((diag[k] | (miss & diag[k - 1])) & up[k - 1] & left[k - 1])
                cur[j] = left = cell
                none_close &= cell[hard]
            if none_close == everyone:
                return None
            prev = cur
        if not free_end:
            return prev[length]
        best = list(prev[0])
        for cell in prev[1:]:
            for k in range(levels):
                best[k] &= cell[k]
        return best
