"""The symmetric-deletion neighbourhood behind trace, packed into sorted int arrays.

Every folded serial (look-alikes mapped to one character of their group) is
stored with up to two characters deleted. A query looks up its own deletion
variants; a serial within two whole edits of it shares one of them. Each
stored variant is hashed with CRC-32 (the same in every process, so a pickled
index works anywhere) and packed with the serial's slot and the gaps where
its deletions fell. Knowing where both sides' deletions fell gives the
alignment the shared variant implies, so serials that would need more whole
edits than allowed are skipped without computing any distance.
"""

from __future__ import annotations

import functools
import itertools
import math
from array import array
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from typing import AnyStr
from zlib import crc32

from resguardo.domain.serials import LOOKALIKE_GROUPS

#: Deletions stored per serial in the symmetric-deletion index.
_DEPTH = 2
#: Most deletion variants one query may look up before the bit-parallel filter is cheaper.
LOOKUP_CAP = 1500
# A packed entry is hash32 << 32 | gaps << 23 | slot within its run: one run per
# 2**23 slots. ``gaps`` tells where the serial's deletions fell, counted in
# characters of the variant kept before them, so that a lookup can tell the
# alignment a shared variant implies and skip serials that would cost too much.
_RUN_BITS = 23
_GAPS_SHIFT = _RUN_BITS
_RUN_SLOTS = 1 << _RUN_BITS
_LOCAL_MASK = _RUN_SLOTS - 1
_NO_GAPS = 0xFF  # the serial itself
_ONE_GAP = 0xF0  # | gap (0..14): one deletion
_UNKNOWN_GAPS = 0xEF  # a deletion too far right to encode: never skipped
# two deletions: first gap << 4 | second gap, both 0..14
_CHUNK = 1 << 16


_FOLD_TABLE = {ord(ch): group[0] for group in LOOKALIKE_GROUPS for ch in group}


def fold(text: str) -> str:
    """Each character replaced by the first character of its look-alike group."""
    return text.translate(_FOLD_TABLE)


def _text_hash(text: str) -> int:
    """CRC-32 of the UTF-8 form: unlike ``hash()``, the same in every process."""
    return crc32(text.encode("utf-8", "surrogatepass"))


def _serial_entries(folded: str) -> set[int]:
    """``hash << 32 | gaps << 23`` of a folded serial and its variants with one or two deletions.

    The part below the hash stays under 2**31, so ``float()`` of a packed
    entry (which rounds away at most the lowest 11 bits) never reaches the
    next hash: sorting by ``key=float`` (twice as fast as comparing 64-bit
    ints) still groups every hash together in hash order.
    """
    if folded.isascii():  # deleting a byte is deleting a character
        return _entries(folded.encode("ascii"), crc32)
    return _entries(folded, _text_hash)


def _entries(text: AnyStr, digest: Callable[[AnyStr], int]) -> set[int]:
    size = len(text)
    ones = [text[:i] + text[i + 1 :] for i in range(size)]
    if size <= 15:
        found = {
            digest(once[:j] + once[j + 1 :]) << 32 | (i << 4 | j) << 23
            for i, once in enumerate(ones)
            for j in range(i, size - 1)
        }
        found.update(digest(once) << 32 | (_ONE_GAP | i) << 23 for i, once in enumerate(ones))
    else:
        found = {
            digest(once[:j] + once[j + 1 :]) << 32 | (i << 4 | j if j < 15 else _UNKNOWN_GAPS) << 23
            for i, once in enumerate(ones)
            for j in range(i, size - 1)
        }
        found.update(
            digest(once) << 32 | (_ONE_GAP | i if i < 15 else _UNKNOWN_GAPS) << 23
            for i, once in enumerate(ones)
        )
    found.add(digest(text) << 32 | _NO_GAPS << 23)
    return found


def _serial_gaps(code: int) -> tuple[int, ...] | None:
    """The gaps a packed ``gaps`` byte stands for (None: unknown)."""
    if code == _NO_GAPS:
        return ()
    if code >= _ONE_GAP:
        return (code & 0xF,)
    if code == _UNKNOWN_GAPS:
        return None
    return (code >> 4, code & 0xF)


_UNDECIDED = 254
_TOO_FAR = 255


@dataclass(slots=True)
class _QueryVariant:
    """Which characters of a query stay in one of its deletion variants, and where the rest fell.

    ``at_gap`` maps a gap (characters of the variant before it) to the number
    of deleted read characters and of deleted unreadable marks there.
    ``verdicts[code]`` is the whole edits of the implied alignment with a
    serial whose deletions fell at the packed ``gaps`` byte ``code`` (0 when
    unknown), ``_TOO_FAR`` beyond ``hard``, ``_UNDECIDED`` until first needed.
    """

    kept: tuple[int, ...]
    profile: tuple[tuple[int, tuple[int, int]], ...]
    at_gap: dict[int, tuple[int, int]]
    deleted: int
    hard: int
    verdicts: bytearray

    def hard_edits(self, serial_gaps: tuple[int, ...]) -> int:
        """Fewest whole edits of the alignment where the variant's characters all match.

        In each gap the serial's deleted characters pair first with unreadable
        marks (free), then with deleted read characters (one substitution
        each); whatever is left over is a missing or extra character.
        """
        total = self.deleted
        for gap in set(serial_gaps):
            count = serial_gaps.count(gap)
            read, unreadable = self.at_gap.get(gap, (0, 0))
            paired = min(unreadable, count)
            total += max(read + unreadable - paired, count - paired) - read - unreadable
        return total

    def decide(self, code: int) -> int:
        """Fill in and return ``verdicts[code]``."""
        gaps = _serial_gaps(code)
        edits = 0 if gaps is None else self.hard_edits(gaps)
        verdict = self.verdicts[code] = edits if edits <= self.hard else _TOO_FAR
        return verdict


@functools.lru_cache(maxsize=4096)
def _query_variants(
    size: int, marks: tuple[int, ...], extra: int, hard: int
) -> tuple[_QueryVariant, ...]:
    """A query of ``size`` characters with up to ``extra`` deleted; ``marks``: gaps of deleted ``?``.

    Cached: the variants and their verdicts depend only on these arguments.
    """
    found = []
    for depth in range(min(extra, size) + 1):
        for gone in itertools.combinations(range(size), depth):
            at_gap: dict[int, tuple[int, int]] = {}
            for rank, pos in enumerate(gone):
                read, unreadable = at_gap.get(pos - rank, (0, 0))
                at_gap[pos - rank] = (read + 1, unreadable)
            for mark in marks:
                gap = mark - sum(1 for pos in gone if pos < mark)
                read, unreadable = at_gap.get(gap, (0, 0))
                at_gap[gap] = (read, unreadable + 1)
            kept = tuple(i for i in range(size) if i not in gone)
            profile = tuple(sorted(at_gap.items()))
            verdicts = bytearray([_UNDECIDED]) * 256
            found.append(_QueryVariant(kept, profile, at_gap, depth + len(marks), hard, verdicts))
    return tuple(found)


def deletion_plan(
    unreadable: int, max_tenths: int, *, unreadable_cost: int, indel_cost: int
) -> tuple[int, int] | None:
    """How to look a query up in the deletion index: (``?`` to spell out, extra deletions).

    A ``?`` that is not spelled out is deleted from the query; when it stands
    for a character, that character must be deleted from the serial too, and
    the index holds serials with at most ``_DEPTH`` deletions. Spelling a
    ``?`` out over the alphabet avoids that. Returns None when even spelling
    every ``?`` out needs more serial deletions than the index holds.
    """
    for spelled in range(unreadable + 1):
        forced = unreadable - spelled
        serial_side = query_side = -1
        for spelled_read, forced_read in itertools.product(range(spelled + 1), range(forced + 1)):
            spelled_gone = spelled - spelled_read
            base = (spelled_read + forced_read) * unreadable_cost + indel_cost * (
                spelled_gone + forced - forced_read
            )
            if base > max_tenths:
                continue
            edits = (max_tenths - base) // indel_cost
            serial_side = max(serial_side, forced_read + edits)
            query_side = max(query_side, spelled_gone + edits)
        if serial_side < 0:
            return 0, 0  # nothing can be within reach; one exact lookup answers
        if serial_side <= _DEPTH:
            return spelled, query_side
    return None


def _prefix_starts(merged: array[int]) -> array[int]:
    """For every 16-bit prefix ``top`` (and one past the last), the index in the sorted
    ``merged`` of its first entry at or above ``top << 48``.

    A run shorter than the 65,537 prefixes is counted entry by entry (a small registry, or
    a test's, merges in microseconds instead of 65,537 bisections); a longer one bisects.
    """
    if len(merged) < 1 << 16:
        counts = [0] * (1 << 16 | 1)
        for entry in merged:
            counts[(entry >> 48) + 1] += 1
        return array("I", itertools.accumulate(counts))
    return array("I", (bisect_left(merged, top << 48) for top in range(1 << 16 | 1)))


class DeletionIndex:
    """Packed sorted runs of (variant hash, gaps, slot) plus a small side table for recent serials."""

    def __init__(self, wildcard: str) -> None:
        self.wildcard = wildcard
        #: Folded characters of every serial ever added: what a spelled-out ``?`` may be.
        self.alphabet: set[str] = set()
        self._runs: list[array[int]] = []
        self._offsets: list[array[int]] = []
        self._delta: dict[int, list[tuple[int, int]]] = {}

    def __len__(self) -> int:
        return sum(map(len, self._runs)) + sum(map(len, self._delta.values()))

    def note(self, folded: str) -> None:
        """Remember the characters of a serial about to be added."""
        self.alphabet.update(folded)

    def stage(self, serials: list[tuple[int, str]]) -> None:
        """Add (slot, folded key) serials to the side table, until the next :meth:`merge`."""
        delta = self._delta
        for slot, folded in serials:
            for entry in _serial_entries(folded):
                delta.setdefault(entry >> 32, []).append((entry >> _GAPS_SHIFT & 0xFF, slot))

    def merge(self, serials: list[tuple[int, str]]) -> None:
        """Add (slot, folded key) serials to the sorted runs and empty the side table."""
        self._delta = {}
        by_run: dict[int, list[tuple[int, str]]] = {}
        for slot, folded in serials:
            by_run.setdefault(slot >> _RUN_BITS, []).append((slot, folded))
        for run, members in sorted(by_run.items()):
            while len(self._runs) <= run:
                self._runs.append(array("Q"))
                self._offsets.append(array("I"))
            merged = self._merge_run(self._runs[run], members, run * _RUN_SLOTS)
            self._runs[run] = merged
            # Where each 16-bit hash prefix starts, so a lookup bisects a few hundred entries.
            self._offsets[run] = _prefix_starts(merged)

    @staticmethod
    def _merge_run(old: array[int], serials: list[tuple[int, str]], base: int) -> array[int]:
        parts: list[list[array[int]]] = [[] for _ in range(256)]
        for first in range(0, len(serials), _CHUNK):
            packed: list[int] = []
            for slot, folded in serials[first : first + _CHUNK]:
                local = slot - base
                packed += [entry | local for entry in _serial_entries(folded)]
            packed.sort(key=float)
            chunk = array("Q", packed)
            lo = 0
            for top in range(256):
                hi = bisect_left(packed, (top + 1) << 56, lo)
                if hi > lo:
                    parts[top].append(chunk[lo:hi])
                lo = hi
        merged = array("Q", [0]) * (len(old) + sum(len(c) for runs in parts for c in runs))
        start = old_lo = 0
        for top in range(256):
            old_hi = bisect_left(old, (top + 1) << 56, old_lo)
            # Every piece is sorted, so sorted() merges runs rather than sorting from scratch.
            block = sorted(itertools.chain(old[old_lo:old_hi], *parts[top]), key=float)
            parts[top] = []
            merged[start : start + len(block)] = array("Q", block)
            start += len(block)
            old_lo = old_hi
        return merged

    def lookups(self, pattern: str, plan: tuple[int, int]) -> int:
        """How many variants :meth:`candidates` would look up."""
        spelled, extra = plan
        unreadable = pattern.count(self.wildcard)
        kept = len(pattern) - unreadable + spelled
        variants = sum(math.comb(kept, d) for d in range(min(extra, kept) + 1))
        return len(self.alphabet) ** spelled * variants

    def candidates(self, pattern: str, plan: tuple[int, int], hard: int) -> dict[int, int]:
        """Slots sharing a variant with folded ``pattern`` through an alignment within ``hard``.

        ``plan`` comes from :func:`deletion_plan`; ``hard`` is the most whole
        edits (not look-alikes, not unreadable marks read as a character) a
        match may need. Each slot maps to the fewest whole edits over its
        shared variants, a lower bound of its distance in whole units (and
        exactly its folded edit distance, unless a serial is longer than 15).
        """
        spelled, extra = plan
        chars: list[str] = []
        holes: list[int] = []
        marks: list[int] = []
        for ch in pattern:
            if ch != self.wildcard:
                chars.append(ch)
            elif len(holes) < spelled:
                holes.append(len(chars))
                chars.append(ch)
            else:
                marks.append(len(chars))
        templates = _query_variants(len(chars), tuple(marks), extra, hard)
        lookups: dict[tuple[str, tuple[tuple[int, tuple[int, int]], ...]], _QueryVariant] = {}
        for fill in itertools.product(sorted(self.alphabet), repeat=spelled):
            for hole, ch in zip(holes, fill, strict=True):
                chars[hole] = ch
            for template in templates:
                text = "".join([chars[i] for i in template.kept])
                lookups.setdefault((text, template.profile), template)
        runs, offsets, delta = self._runs, self._offsets, self._delta
        found: dict[int, int] = {}
        for (text, _), variant in lookups.items():
            h = _text_hash(text)
            verdicts = variant.verdicts
            for number, run in enumerate(runs):
                top = offsets[number]
                end = top[(h >> 16) + 1]
                pos = bisect_left(run, h << 32, top[h >> 16], end)
                base = number * _RUN_SLOTS
                beyond = (h + 1) << 32
                while pos < end:
                    packed = run[pos]
                    if packed >= beyond:
                        break
                    pos += 1
                    edits = verdicts[packed >> _GAPS_SHIFT & 0xFF]
                    if edits == _UNDECIDED:
                        edits = variant.decide(packed >> _GAPS_SHIFT & 0xFF)
                    if edits <= hard:
                        slot = base + (packed & _LOCAL_MASK)
                        if edits < found.get(slot, _TOO_FAR):
                            found[slot] = edits
            for code, slot in delta.get(h, ()):
                edits = verdicts[code]
                if edits == _UNDECIDED:
                    edits = variant.decide(code)
                if edits < found.get(slot, _TOO_FAR):
                    found[slot] = edits
        return found
