"""Read-your-own-writes across the primary and a lagging read replica.

The log's size is a position every database copy agrees on: a replica that has
replayed the log up to size N holds every write committed before it. A request
carries the position of the person's last write (a cookie on the web, a header
on the API); a read that may lag goes to the replica only when the replica has
reached that position, and to the primary otherwise. Each commit notes the new
position so the entry point can hand it back to the person.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass


@dataclass
class Positions:
    """One request's positions in the log."""

    read_after: int = 0
    """The log size this request's reads must see (the person's last write)."""
    written: int = 0
    """The log size after this request's last commit (0: it wrote nothing)."""


_CURRENT: ContextVar[Positions | None] = ContextVar("resguardo_positions", default=None)


def start(read_after: int) -> tuple[Positions, Token[Positions | None]]:
    """Begin a request that must read at least ``read_after`` entries."""
    positions = Positions(read_after=max(0, read_after))
    return positions, _CURRENT.set(positions)


def finish(token: Token[Positions | None]) -> None:
    _CURRENT.reset(token)


def read_after() -> int:
    positions = _CURRENT.get()
    return positions.read_after if positions is not None else 0


def note_commit(size: int) -> None:
    """A unit of work committed and the log now has ``size`` entries: later reads in the
    same request, and the person's next requests, must see them."""
    positions = _CURRENT.get()
    if positions is not None:
        positions.written = max(positions.written, size)
        positions.read_after = max(positions.read_after, size)


def parse(value: str | None) -> int:
    """A position sent back by a client (cookie or header); anything else counts as 0."""
    if value and value.isdigit() and len(value) <= 15:
        return int(value)
    return 0
