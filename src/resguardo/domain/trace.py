"""Trace: rank registered serials against a serial read from a recovered weapon.

A trace query is a serial as read off the steel, normalized like
:func:`~resguardo.domain.serials.serial_key` but keeping two marks:

* ``?`` stands for exactly one unreadable character, in any position, as
  many times as needed (``PX1??45``);
* ``*`` at the start or the end says the rest is unknown: ``ABC*`` knows only
  the beginning of the serial, ``*1234`` only the end, ``*123*`` only a piece
  of the middle.

The distance between a query and a serial key is the cheapest alignment under
these costs (:func:`trace_distance`):

=====================================================  ======
operation                                              cost
=====================================================  ======
same character                                         0
``?`` read as any one character                        0.1
look-alike substitution (O/0/D/Q, I/1/L/T, S/5, B/8,   0.5
Z/2, G/6)
any other substitution                                 1
missing character (in the serial, not in the query)    1
extra character (in the query, not in the serial;      1
also a ``?`` that stands for nothing)
unknown part behind a ``*``                            0
=====================================================  ======

``?`` costs 0.1 rather than 0 so that a serial read completely ranks above
one that only fits the unreadable marks. Costs are counted in integer tenths,
so equal alignments give exactly equal distances. Candidates are ranked by
distance, then serial key, make and id, so exact matches come first and the
order never depends on insertion order.

:class:`SerialIndex` answers trace queries without scanning every serial. Each
character is first folded to its look-alike group, which turns every
look-alike substitution into an equality; ``?`` and any other edit cost at
least 0.1 and 1, so a serial within distance *d* is within ``floor(d)``
whole edits of the query in folded form. Two filters find those serials and
the exact weighted distance is then computed for each candidate only:

* a symmetric-deletion index: every folded serial with up to two characters
  deleted, hashed with CRC-32 (stable across processes, so a pickled index
  works anywhere) and packed with its slot into sorted ``array('d')`` runs; a
  query looks up its own deletion variants (``?`` are
  deleted, or spelled out over the alphabet when that is cheap) - used for
  queries with both ends known;
* bit-parallel edit distance over columns of bits: for each serial length,
  position and folded character a Python ``int`` whose bit *r* is set when
  row *r* has that character there; the edit-distance table is computed for
  all serials of one length at once, its cell values kept as saturating
  thermometer bit-planes - used for prefix, suffix and many-``?`` queries and
  for maximum distances of 3 or more.
"""

from __future__ import annotations

import itertools
import math
from array import array
from bisect import bisect_left
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import AnyStr
from zlib import crc32

from resguardo.domain.errors import Conflict, NotFound, ValidationFailed
from resguardo.domain.serials import LOOKALIKE_GROUPS, lookalikes, make_key, serial_key

UNREADABLE = "?"
REST_UNKNOWN = "*"

UNREADABLE_COST = 0.1
LOOKALIKE_COST = 0.5
SUBSTITUTION_COST = 1.0
INDEL_COST = 1.0
DEFAULT_MAX_DISTANCE = 2.0
#: Largest accepted ``max_distance``; beyond it nearly every serial would match.
MAX_MAX_DISTANCE = 10.0
DEFAULT_LIMIT = 20

# Costs in integer tenths of a distance unit.
_TENTHS = 10
_C_UNREADABLE = 1
_C_LOOKALIKE = 5
_C_OTHER = 10
_C_INDEL = 10

#: Deletions stored per serial in the symmetric-deletion index.
_DEPTH = 2
#: Most deletion variants one query may look up before the bit-parallel filter is cheaper.
_LOOKUP_CAP = 1500
_NO_ROW = 0xFFFFFFFF
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


def _fold(text: str) -> str:
    """Each character replaced by the first character of its look-alike group."""
    return text.translate(_FOLD_TABLE)


@dataclass(frozen=True, slots=True)
class TraceQuery:
    """A parsed trace query: ``body`` holds the read characters and ``?`` marks."""

    text: str
    body: str
    known_start: bool
    known_end: bool

    @property
    def unreadable(self) -> int:
        """How many characters are marked unreadable."""
        return self.body.count(UNREADABLE)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A registered firearm whose serial is within the trace distance of the query."""

    id: Hashable
    serial_key: str
    distance: float


def parse_query(raw: str) -> TraceQuery:
    """Normalize a serial as read (case and separators folded) keeping ``?`` and ``*``."""
    text = serial_key(raw)
    known_start = not text.startswith(REST_UNKNOWN)
    known_end = not text.endswith(REST_UNKNOWN)
    body = text.strip(REST_UNKNOWN)
    if REST_UNKNOWN in body:
        raise ValidationFailed(
            "'*' may only stand at the start or the end of a trace query", field="query", query=raw
        )
    if not body.replace(UNREADABLE, ""):
        raise ValidationFailed(
            "a trace query needs at least one readable character", field="query", query=raw
        )
    marked = ("" if known_start else REST_UNKNOWN) + body + ("" if known_end else REST_UNKNOWN)
    return TraceQuery(text=marked, body=body, known_start=known_start, known_end=known_end)


def _max_tenths(max_distance: float) -> int:
    if not 0.0 <= max_distance <= MAX_MAX_DISTANCE:
        raise ValidationFailed(
            f"max_distance must be between 0 and {MAX_MAX_DISTANCE:g}",
            field="max_distance",
            value=max_distance,
        )
    return math.floor(max_distance * _TENTHS + 1e-9)


_ROW_COSTS: dict[str, dict[str, int]] = {}


def _row_costs(ch: str) -> dict[str, int] | None:
    """Substitution costs of every serial character against query character ``ch``."""
    if ch == UNREADABLE:
        return None
    costs = _ROW_COSTS.get(ch)
    if costs is None:
        costs = {other: _C_LOOKALIKE for other in lookalikes(ch)}
        costs[ch] = 0
        _ROW_COSTS[ch] = costs
    return costs


class _Matcher:
    """The weighted distance of one query, computed by a banded table with early exit."""

    __slots__ = ("rows", "reverse", "free_start", "free_end", "limit", "band")

    def __init__(self, query: TraceQuery, max_tenths: int) -> None:
        body = query.body
        # A suffix-only query is a prefix-only query on reversed strings, which keeps the band.
        self.reverse = query.known_end and not query.known_start
        if self.reverse:
            body = body[::-1]
        self.rows = [_row_costs(ch) for ch in body]
        self.free_start = not query.known_start and not query.known_end
        self.free_end = not (query.known_start and query.known_end)
        self.limit = max_tenths
        self.band = max_tenths // _C_INDEL

    def tenths(self, target: str) -> int | None:
        """Distance to ``target`` in tenths, or None when it is over the maximum."""
        if self.free_end:
            return self._semi_global(target)
        return self._global(target)

    def _global(self, target: str) -> int | None:
        """Both ends known: only diagonals that can still end within the maximum are computed.

        A cell on diagonal d (serial index minus query index) costs at least
        ``|d|`` indels to reach and ``|m - n - d|`` more to leave, so the
        diagonals kept are those where their sum stays within ``band``.
        """
        rows, limit, band = self.rows, self.limit, self.band
        n, m = len(rows), len(target)
        delta = m - n
        if abs(delta) > band:
            return None
        spare = (band - abs(delta)) // 2
        low = min(0, delta) - spare
        width = abs(delta) + 2 * spare + 1
        over = limit + 1
        prev = [d * _C_INDEL if 0 <= d <= m else over for d in range(low, low + width)]
        for i in range(1, n + 1):
            costs = rows[i - 1]
            cur = [over] * width
            best = over
            for k in range(width):
                j = i + low + k
                if j < 0 or j > m:
                    continue
                if j == 0:
                    value = i * _C_INDEL if i <= band else over
                else:
                    value = prev[k] + (
                        _C_UNREADABLE if costs is None else costs.get(target[j - 1], _C_OTHER)
                    )
                    if k + 1 < width:
                        step = prev[k + 1] + _C_INDEL
                        if step < value:
                            value = step
                    if k:
                        step = cur[k - 1] + _C_INDEL
                        if step < value:
                            value = step
                    if value > over:
                        value = over
                cur[k] = value
                if value < best:
                    best = value
            if best > limit:
                return None
            prev = cur
        result = prev[delta - low]
        return result if result <= limit else None

    def _semi_global(self, target: str) -> int | None:
        """An unknown rest at one or both ends: the best over where the serial may end."""
        rows, limit, band, free_start = self.rows, self.limit, self.band, self.free_start
        n, m = len(rows), len(target)
        if not free_start and m < n - band:
            return None
        if self.reverse:
            target = target[::-1]
        over = limit + 1
        if free_start:
            prev = [0] * (m + 1)
        else:
            prev = [j * _C_INDEL if j <= band else over for j in range(m + 1)]
        for i in range(1, n + 1):
            costs = rows[i - 1]
            lo, hi = (1, m) if free_start else (max(1, i - band), min(m, i + band))
            first = i * _C_INDEL if i <= band else over
            cur = [over] * (m + 1)
            cur[0] = best = first
            left = first if lo == 1 else over
            for j in range(lo, hi + 1):
                value = prev[j - 1] + (
                    _C_UNREADABLE if costs is None else costs.get(target[j - 1], _C_OTHER)
                )
                step = prev[j] + _C_INDEL
                if step < value:
                    value = step
                step = left + _C_INDEL
                if step < value:
                    value = step
                if value > over:
                    value = over
                cur[j] = left = value
                if value < best:
                    best = value
            if best > limit:
                return None
            prev = cur
        result = min(prev)
        return result if result <= limit else None


def trace_distance(
    query: str | TraceQuery, serial: str, *, max_distance: float = DEFAULT_MAX_DISTANCE
) -> float | None:
    """The documented trace distance from ``query`` to ``serial``, or None above ``max_distance``."""
    parsed = query if isinstance(query, TraceQuery) else parse_query(query)
    tenths = _Matcher(parsed, _max_tenths(max_distance)).tenths(serial_key(serial))
    return None if tenths is None else tenths / _TENTHS


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


@dataclass(slots=True)
class _QueryVariant:
    """Which characters of a query stay in one of its deletion variants, and where the rest fell.

    ``at_gap`` maps a gap (characters of the variant before it) to the number
    of deleted read characters and of deleted unreadable marks there.
    ``verdicts`` caches :meth:`fits` per packed ``gaps`` byte.
    """

    kept: tuple[int, ...]
    at_gap: dict[int, tuple[int, int]]
    deleted: int
    verdicts: dict[int, bool]

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

    def fits(self, code: int, hard: int) -> bool:
        """Whether a serial whose deletions fell at ``code`` may be within ``hard`` edits."""
        gaps = _serial_gaps(code)
        verdict = self.verdicts[code] = gaps is None or self.hard_edits(gaps) <= hard
        return verdict


def _query_variants(size: int, marks: list[int], extra: int) -> Iterator[_QueryVariant]:
    """A query of ``size`` characters with up to ``extra`` deleted; ``marks``: gaps of deleted ``?``."""
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
            yield _QueryVariant(kept, at_gap, depth + len(marks), {})


def _deletion_plan(unreadable: int, max_tenths: int) -> tuple[int, int] | None:
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
            base = (spelled_read + forced_read) * _C_UNREADABLE + _C_INDEL * (
                spelled_gone + forced - forced_read
            )
            if base > max_tenths:
                continue
            edits = (max_tenths - base) // _C_INDEL
            serial_side = max(serial_side, forced_read + edits)
            query_side = max(query_side, spelled_gone + edits)
        if serial_side < 0:
            return 0, 0  # nothing can be within reach; one exact lookup answers
        if serial_side <= _DEPTH:
            return spelled, query_side
    return None


def _set_bits(bits: int) -> Iterator[int]:
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


class _LengthGroup:
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
        self, pattern: str, query: TraceQuery, everyone: int, hard: int
    ) -> list[int] | None:
        """Thermometer planes [>=1, ..., >=hard+1] of the folded unit edit distance, per row.

        ``pattern`` is the folded query body; ``?`` matches any character at no
        cost (it is a lower bound of the weighted distance); look-alikes are
        equal after folding. Returns None when no row is within ``hard``.
        """
        levels = hard + 1
        length = len(self.columns)
        columns = self.columns
        if query.known_start:
            order = list(range(length))
        elif query.known_end:
            pattern, order = pattern[::-1], list(range(length - 1, -1, -1))
        else:
            order = list(range(length))
        free_start = not query.known_start and not query.known_end
        free_end = not (query.known_start and query.known_end)
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
                miss = 0 if ch == UNREADABLE else everyone & ~columns[order[j - 1]].get(ch, 0)
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


class SerialIndex:
    """In-memory trace index of (firearm id, serial key, make key).

    Additions wait in a pending list and are indexed on the next search (or
    :meth:`compact`); up to ``merge_after`` of them live in a small hash
    table, beyond that they are merged into the packed sorted array. Removed
    serials are dropped from results at once and from memory when removals
    pass a quarter of the index (or on :meth:`compact`).
    """

    def __init__(
        self, entries: Iterable[tuple[Hashable, str, str]] = (), *, merge_after: int = 20_000
    ) -> None:
        self._merge_after = max(1, merge_after)
        self._reset()
        for firearm_id, serial, make in entries:
            self.add(firearm_id, serial, make)

    def _reset(self) -> None:
        self._ids: list[Hashable | None] = []
        self._keys: list[str | None] = []
        self._makes = array("I")
        self._rows = array("I")
        self._slot_of: dict[Hashable, int] = {}
        self._make_codes: dict[str, int] = {}
        self._make_names: list[str] = []
        self._alphabet: set[str] = set()
        self._runs: list[array[int]] = []
        self._offsets: list[array[int]] = []
        self._delta: dict[int, list[tuple[int, int]]] = {}
        self._delta_slots: list[int] = []
        self._pending: list[int] = []
        self._groups: dict[int, _LengthGroup] = {}
        self._dead = 0

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, firearm_id: object) -> bool:
        return firearm_id in self._slot_of

    def add(self, firearm_id: Hashable, serial: str, make: str = "") -> None:
        """Index a firearm's serial; refused when the id is already indexed or the serial is empty."""
        if firearm_id in self._slot_of:
            raise Conflict("firearm is already in the trace index", firearm_id=firearm_id)
        key = serial_key(serial)
        if not key:
            raise ValidationFailed("serial is empty", field="serial", firearm_id=firearm_id)
        mkey = make_key(make)
        code = self._make_codes.get(mkey)
        if code is None:
            code = self._make_codes[mkey] = len(self._make_names)
            self._make_names.append(mkey)
        slot = len(self._keys)
        self._ids.append(firearm_id)
        self._keys.append(key)
        self._makes.append(code)
        self._rows.append(_NO_ROW)
        self._slot_of[firearm_id] = slot
        self._alphabet.update(_fold(key))
        self._pending.append(slot)

    def remove(self, firearm_id: Hashable) -> None:
        """Drop a firearm's serial (before re-adding a corrected one)."""
        slot = self._slot_of.pop(firearm_id, None)
        if slot is None:
            raise NotFound("firearm is not in the trace index", firearm_id=firearm_id)
        key = self._keys[slot]
        row = self._rows[slot]
        if key is not None and row != _NO_ROW:
            group = self._groups[len(key)]
            group.alive &= ~(1 << row)
        self._keys[slot] = None
        self._ids[slot] = None
        self._dead += 1

    def compact(self) -> None:
        """Index every pending addition in the packed array now and drop removed serials."""
        if self._dead:
            self._rebuild()
        self._refresh(merge=True)

    def _rebuild(self) -> None:
        live = [
            (firearm_id, key, self._make_names[self._makes[slot]])
            for slot, (firearm_id, key) in enumerate(zip(self._ids, self._keys, strict=True))
            if key is not None
        ]
        self._reset()
        for firearm_id, key, make in live:
            self.add(firearm_id, key, make)
        self._refresh(merge=True)

    def _refresh(self, *, merge: bool = False) -> None:
        if self._dead > max(self._merge_after, len(self._slot_of) // 4):
            self._rebuild()
            return
        keys = self._keys
        pending = [slot for slot in self._pending if keys[slot] is not None]
        self._pending = []
        self._index_rows(pending)
        if merge or len(pending) + len(self._delta_slots) > self._merge_after:
            slots = self._delta_slots + pending
            self._delta, self._delta_slots = {}, []
            if slots:
                self._merge(slots)
            return
        delta = self._delta
        for slot in pending:
            for entry in _serial_entries(_fold(keys[slot] or "")):
                delta.setdefault(entry >> 32, []).append((entry >> _GAPS_SHIFT & 0xFF, slot))
        self._delta_slots.extend(pending)

    def _index_rows(self, slots: list[int]) -> None:
        by_length: dict[int, list[tuple[int, str, int]]] = {}
        for slot in slots:
            key = self._keys[slot] or ""
            by_length.setdefault(len(key), []).append((slot, _fold(key), self._makes[slot]))
        for length, entries in by_length.items():
            group = self._groups.get(length)
            if group is None:
                group = self._groups[length] = _LengthGroup(length)
            base = group.extend(entries)
            for offset, (slot, _, _) in enumerate(entries):
                self._rows[slot] = base + offset

    def _merge(self, slots: list[int]) -> None:
        """Add the deletion variants of ``slots`` to the sorted runs of packed entries."""
        by_run: dict[int, list[int]] = {}
        for slot in slots:
            by_run.setdefault(slot >> _RUN_BITS, []).append(slot)
        for run, members in sorted(by_run.items()):
            while len(self._runs) <= run:
                self._runs.append(array("Q"))
                self._offsets.append(array("I"))
            merged = self._merge_run(self._runs[run], members, run * _RUN_SLOTS)
            self._runs[run] = merged
            # Where each 16-bit hash prefix starts, so a lookup bisects a few hundred entries.
            self._offsets[run] = array(
                "I", (bisect_left(merged, top << 48) for top in range(1 << 16 | 1))
            )

    def _merge_run(self, old: array[int], slots: list[int], base: int) -> array[int]:
        keys = self._keys
        parts: list[list[array[int]]] = [[] for _ in range(256)]
        for first in range(0, len(slots), _CHUNK):
            packed: list[int] = []
            for slot in slots[first : first + _CHUNK]:
                key = keys[slot]
                if key is not None:
                    local = slot - base
                    packed += [entry | local for entry in _serial_entries(_fold(key))]
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

    def search(
        self,
        query: str | TraceQuery,
        *,
        max_distance: float = DEFAULT_MAX_DISTANCE,
        make: str | None = None,
        limit: int | None = DEFAULT_LIMIT,
    ) -> list[Candidate]:
        """Serials within ``max_distance`` of ``query``, nearest first (``limit=None``: all)."""
        parsed = query if isinstance(query, TraceQuery) else parse_query(query)
        max_tenths = _max_tenths(max_distance)
        if limit is not None and limit < 1:
            raise ValidationFailed("limit must be at least 1", field="limit", value=limit)
        self._refresh()
        make_code = None
        if make is not None:
            make_code = self._make_codes.get(make_key(make))
            if make_code is None:
                return []
        matcher = _Matcher(parsed, max_tenths)
        hard = max_tenths // _C_INDEL
        plan = None
        if parsed.known_start and parsed.known_end:
            plan = _deletion_plan(parsed.unreadable, max_tenths)
        if plan is not None and self._lookups(parsed, plan) <= _LOOKUP_CAP:
            slots = self._deletion_candidates(parsed, plan, hard)
            found = self._verify(slots, matcher, make_code)
        else:
            found = []
            for level, slots in enumerate(self._bit_candidates(parsed, hard, make_code)):
                found += self._verify(slots, matcher, None)
                closer = sum(1 for tenths, _ in found if tenths < (level + 1) * _C_INDEL)
                if limit is not None and closer >= limit:
                    break
        keys, ids, makes, names = self._keys, self._ids, self._makes, self._make_names
        found.sort(key=lambda hit: (hit[0], keys[hit[1]], names[makes[hit[1]]], repr(ids[hit[1]])))
        if limit is not None:
            del found[limit:]
        return [Candidate(ids[slot], keys[slot] or "", tenths / _TENTHS) for tenths, slot in found]

    def _verify(
        self, slots: Iterable[int], matcher: _Matcher, make_code: int | None
    ) -> list[tuple[int, int]]:
        keys, makes, tenths_of = self._keys, self._makes, matcher.tenths
        found = []
        for slot in slots:
            key = keys[slot]
            if key is None or (make_code is not None and makes[slot] != make_code):
                continue
            tenths = tenths_of(key)
            if tenths is not None:
                found.append((tenths, slot))
        return found

    def _lookups(self, query: TraceQuery, plan: tuple[int, int]) -> int:
        spelled, extra = plan
        kept = len(query.body) - query.unreadable + spelled
        variants = sum(math.comb(kept, d) for d in range(min(extra, kept) + 1))
        return len(self._alphabet) ** spelled * variants

    def _deletion_candidates(self, query: TraceQuery, plan: tuple[int, int], hard: int) -> set[int]:
        """Slots sharing a deletion variant with the query through an alignment within ``hard``."""
        spelled, extra = plan
        chars: list[str] = []
        holes: list[int] = []
        marks: list[int] = []
        for ch in _fold(query.body):
            if ch != UNREADABLE:
                chars.append(ch)
            elif len(holes) < spelled:
                holes.append(len(chars))
                chars.append(ch)
            else:
                marks.append(len(chars))
        templates = [
            (variant, tuple(sorted(variant.at_gap.items())))
            for variant in _query_variants(len(chars), marks, extra)
        ]
        lookups: dict[tuple[str, tuple[tuple[int, tuple[int, int]], ...]], _QueryVariant] = {}
        for fill in itertools.product(sorted(self._alphabet), repeat=spelled):
            for hole, ch in zip(holes, fill, strict=True):
                chars[hole] = ch
            for template, profile in templates:
                lookups.setdefault(("".join([chars[i] for i in template.kept]), profile), template)
        runs, offsets, delta = self._runs, self._offsets, self._delta
        found: set[int] = set()
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
                    code = packed >> _GAPS_SHIFT & 0xFF
                    verdict = verdicts.get(code)
                    if verdict is None:
                        verdict = variant.fits(code, hard)
                    if verdict:
                        found.add(base + (packed & _LOCAL_MASK))
            for code, slot in delta.get(h, ()):
                verdict = verdicts.get(code)
                if verdict is None:
                    verdict = variant.fits(code, hard)
                if verdict:
                    found.add(slot)
        return found

    def _bit_candidates(
        self, query: TraceQuery, hard: int, make_code: int | None
    ) -> list[list[int]]:
        """Slots by folded unit edit distance 0..hard (a lower bound of the weighted one)."""
        pattern = _fold(query.body)
        size = len(pattern)
        both = query.known_start and query.known_end
        levels: list[list[int]] = [[] for _ in range(hard + 1)]
        for length in sorted(self._groups):
            if length < size - hard or (both and length > size + hard):
                continue
            group = self._groups[length]
            everyone = group.alive
            if make_code is not None:
                everyone &= group.makes.get(make_code, 0)
            if not everyone:
                continue
            planes = group.distances(pattern, query, everyone, hard)
            if planes is None:
                continue
            below = everyone
            for level in range(hard + 1):
                exact = below & ~planes[level]
                below = planes[level]
                levels[level].extend(group.rows[row] for row in _set_bits(exact))
        return levels
