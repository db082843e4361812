"""Shards of serial keys: disjoint parts a reconciliation can be split into and added up."""

from __future__ import annotations

import itertools
from operator import itemgetter
from typing import NamedTuple

#: What ``serial_key`` removes from a serial: Python's whitespace and ``-./\\_``.
SEPARATORS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000-./\\_"
)


class Shard(NamedTuple):
    """Part ``part`` of ``parts`` disjoint parts of the serial keys (numbered from 0).

    A serial's part follows from the last character of its key (``serial_key``),
    so every spelling of one serial, in the registry and in the count, lands in
    the same part, and a reconciliation can run part by part (``domain.reconcile.tally``).
    """

    part: int
    parts: int

    def holds(self, serial: str) -> bool:
        """Whether ``serial`` (one with a non-empty key) falls in this part."""
        return self._of(serial.rstrip(SEPARATORS)[-1:]) == self.part

    def _of(self, last: str) -> int:
        return ord(last.upper()[-1]) % self.parts if last else -1

    def mask(self, serials: list[str]) -> list[bool]:
        """``holds`` for each serial, in C loops; False for an empty one."""
        stripped = map(str.rstrip, serials, itertools.repeat(SEPARATORS))
        last = list(map(itemgetter(slice(-1, None)), stripped))
        inside = {c: self._of(c) == self.part for c in set(last)}
        return list(map(inside.__getitem__, last))
