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
so equal alignments give exactly equal distances.

Candidates are ranked by distance, so exact matches come first. Among equal
distances, the serial with more cheapest alignments to the query ranks first
(:func:`trace_ways`): each alignment is one way of damaging that serial into
the reading, so a serial the reading could have come from in more ways is the
likelier source (``LW690153`` is two edits from ``LW604153`` either as two
misread digits or as a lost ``4`` and an extra ``9``, from ``LW090152`` only
as two misread digits). The distance itself is the cheapest alignment alone
and never changes. Remaining ties go by serial key, make and id, so the
order never depends on insertion order.

The index that answers trace queries over every registered serial is
:class:`~resguardo.domain.serial_index.SerialIndex`.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass

from resguardo.domain.errors import T_, ValidationFailed
from resguardo.domain.serials import lookalikes, serial_key

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
TENTHS = 10
C_UNREADABLE = 1
C_LOOKALIKE = 5
C_OTHER = 10
C_INDEL = 10


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


def max_tenths_of(max_distance: float) -> int:
    if not 0.0 <= max_distance <= MAX_MAX_DISTANCE:
        raise ValidationFailed(
            T_("%(field)s must be between %(low)s and %(high)s"),
            field="max_distance",
            value=max_distance, low=0, high=f"{MAX_MAX_DISTANCE:g}",
        )
    return math.floor(max_distance * TENTHS + 1e-9)


_ROW_COSTS: dict[str, dict[str, int]] = {}


def _row_costs(ch: str) -> dict[str, int] | None:
    """Substitution costs of every serial character against query character ``ch``."""
    if ch == UNREADABLE:
        return None
    costs = _ROW_COSTS.get(ch)
    if costs is None:
        costs = {other: C_LOOKALIKE for other in lookalikes(ch)}
        costs[ch] = 0
        _ROW_COSTS[ch] = costs
    return costs


class Matcher:
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
        self.band = max_tenths // C_INDEL

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
        # One spare cell on the right stands for the band's edge (always over).
        prev = [d * C_INDEL if 0 <= d <= m else over for d in range(low, low + width)] + [over]
        for i in range(1, n + 1):
            costs = rows[i - 1]
            cur = [over] * (width + 1)
            edge = -i - low  # the cell in column 0, if the band reaches it
            start = max(0, edge + 1)
            stop = min(width, m - i - low + 1)
            left = best = over
            if edge >= 0:
                left = best = cur[edge] = i * C_INDEL if i <= band else over
            for k in range(start, stop):
                value = prev[k] + (
                    C_UNREADABLE if costs is None else costs.get(target[i + low + k - 1], C_OTHER)
                )
                step = prev[k + 1] + C_INDEL
                if step < value:
                    value = step
                step = left + C_INDEL
                if step < value:
                    value = step
                if value > over:
                    value = over
                cur[k] = left = value
                if value < best:
                    best = value
            if best > limit:
                return None
            prev = cur
        result = prev[delta - low]
        return result if result <= limit else None

    def ways(self, target: str, tenths: int) -> int:
        """How many cheapest alignments, each of ``tenths``, turn ``target`` into the query.

        Each alignment is one way the serial could have been damaged into the
        reading at the trace distance; counted over the same table as the
        distance, keeping with each cell the number of cheapest paths to it.
        Only cells within ``tenths`` are kept, since no cheapest path leaves them.
        """
        if tenths == 0 and not self.free_start:
            return 1  # every character matched in turn from the known start: one way only
        rows, n, m = self.rows, len(self.rows), len(target)
        if self.reverse:
            target = target[::-1]
        over = tenths + 1
        # The diagonals (serial index minus query index) a cheapest alignment may use, as in
        # _global: reaching diagonal d costs |d| indels, and with both ends known, leaving
        # it for the last cell costs |m - n - d| more.
        band = tenths // C_INDEL
        if self.free_start:
            low, high = -n, m
        elif self.free_end:
            low, high = -band, band
        else:
            delta = m - n
            spare = (band - abs(delta)) // 2
            low, high = min(0, delta) - spare, max(0, delta) + spare
        if self.free_start:
            cost, count = [0] * (m + 1), [1] * (m + 1)
        else:
            cost = [j * C_INDEL if j <= high else over for j in range(m + 1)]
            count = [1] * (m + 1)
        for i in range(1, n + 1):
            row = rows[i - 1]
            left = i * C_INDEL if -i >= low else over
            left_ways = 1
            cur, ways = [left] + [over] * m, [1] + [0] * m
            lo, hi = max(1, i + low), min(m, i + high)
            if lo > 1:
                left = over
            for j in range(lo, hi + 1):
                diag = cost[j - 1] + (
                    C_UNREADABLE if row is None else row.get(target[j - 1], C_OTHER)
                )
                up = cost[j] + C_INDEL
                side = left + C_INDEL
                best = diag if diag < up else up
                if side < best:
                    best = side
                if best > tenths:
                    left = over
                    continue
                total = count[j - 1] if diag == best else 0
                if up == best:
                    total += count[j]
                if side == best:
                    total += left_ways
                cur[j] = left = best
                ways[j] = left_ways = total
            cost, count = cur, ways
        if self.free_end:
            return sum(c for value, c in zip(cost, count, strict=True) if value == tenths)
        return count[m] if cost[m] == tenths else 0

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
            prev = [j * C_INDEL if j <= band else over for j in range(m + 1)]
        for i in range(1, n + 1):
            costs = rows[i - 1]
            lo, hi = (1, m) if free_start else (max(1, i - band), min(m, i + band))
            first = i * C_INDEL if i <= band else over
            cur = [over] * (m + 1)
            cur[0] = best = first
            left = first if lo == 1 else over
            for j in range(lo, hi + 1):
                value = prev[j - 1] + (
                    C_UNREADABLE if costs is None else costs.get(target[j - 1], C_OTHER)
                )
                step = prev[j] + C_INDEL
                if step < value:
                    value = step
                step = left + C_INDEL
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
    tenths = Matcher(parsed, max_tenths_of(max_distance)).tenths(serial_key(serial))
    return None if tenths is None else tenths / TENTHS


def trace_ways(
    query: str | TraceQuery, serial: str, *, max_distance: float = DEFAULT_MAX_DISTANCE
) -> int:
    """How many cheapest alignments turn ``serial`` into ``query`` (0 above ``max_distance``).

    The tie-break between serials at the same :func:`trace_distance`: each
    alignment is one way of damaging the serial into the reading, and a serial
    the reading could have come from in more ways is the likelier source.
    """
    parsed = query if isinstance(query, TraceQuery) else parse_query(query)
    matcher = Matcher(parsed, max_tenths_of(max_distance))
    key = serial_key(serial)
    tenths = matcher.tenths(key)
    return 0 if tenths is None else matcher.ways(key, tenths)


@dataclass(frozen=True, slots=True)
class Differences:
    """How a serial differs from a trace query, in characters a reader can count.

    ``unreadable``: characters the query marks ``?`` (each matches anything);
    ``lookalike``: characters read as a look-alike (``0`` for ``O``, ``8`` for ``B``);
    ``other``: characters that differ otherwise, are missing or are extra.
    Their weights (0.1, 0.5 and 1) add up to the trace distance.
    """

    unreadable: int
    lookalike: int
    other: int

    @property
    def exact(self) -> bool:
        return not (self.unreadable or self.lookalike or self.other)


def differences(query: str | TraceQuery, serial: str) -> Differences:
    """One cheapest alignment of ``serial`` to ``query``, counted by kind of difference.

    The same weights as :func:`trace_distance` (so the counts' weighted sum is
    the distance); among alignments of equal cost, the one with fewest
    characters that differ outright is told.
    """
    parsed = query if isinstance(query, TraceQuery) else parse_query(query)
    body, target = parsed.body, serial_key(serial)
    free_start, free_end = not parsed.known_start, not parsed.known_end
    # a cell: (tenths, other, lookalike, unreadable)
    prev = [(0, 0, 0, 0) if free_start else (j * C_INDEL, j, 0, 0) for j in range(len(target) + 1)]
    for ch in body:
        costs = _row_costs(ch)
        first = prev[0]
        cur = [(first[0] + C_INDEL, first[1] + 1, first[2], first[3])]
        for j, tch in enumerate(target, start=1):
            diag = prev[j - 1]
            if costs is None:
                sub = (diag[0] + C_UNREADABLE, diag[1], diag[2], diag[3] + 1)
            else:
                cost = costs.get(tch, C_OTHER)
                sub = (diag[0] + cost, diag[1] + (cost == C_OTHER), diag[2] + (cost == C_LOOKALIKE),
                       diag[3])
            up, left = prev[j], cur[j - 1]
            cur.append(min(sub, (up[0] + C_INDEL, up[1] + 1, up[2], up[3]),
                           (left[0] + C_INDEL, left[1] + 1, left[2], left[3])))
        prev = cur
    best = min(prev) if free_end else prev[-1]
    return Differences(unreadable=best[3], lookalike=best[2], other=best[1])
