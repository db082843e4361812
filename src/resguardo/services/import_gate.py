"""How many imports a server reads at once: the rest wait in a queue, in order.

Reading a workbook or a large CSV is the one request whose memory grows with
what a person sends; each is bounded (``sheets.guard.SheetLimits``), and this
gate bounds how many run together. A request that finds every slot taken
waits its turn (first come, first served) for up to ``wait`` seconds; one
that finds the queue full, or waits too long, is refused with ``ImportsBusy``,
whose message says how many imports run and where it stood in the queue
(the API answers 429 with ``Retry-After``; the web page says it in Spanish).
``GET /api/imports/queue`` shows the queue as it is.

When an import leaves the gate, memory freed by the C allocator is handed
back to the system (``malloc_trim``, glibc only): glibc otherwise keeps the
arenas of the threads that read the file, and the server's resident memory
would stay at its peak after the request.

Settings: ``RESGUARDO_IMPORT_CONCURRENT`` (slots, default 2),
``RESGUARDO_IMPORT_QUEUE`` (waiting places, default 8),
``RESGUARDO_IMPORT_QUEUE_WAIT`` (seconds a request waits, default 300).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count
from typing import Any

from resguardo.domain.errors import ImportsBusy

__all__ = ["ImportGate", "ImportsBusy", "QueueState", "gate", "give_back_memory"]


@dataclass(frozen=True, slots=True)
class QueueState:
    running: int
    waiting: int
    slots: int
    places: int
    mine: tuple[int, ...]
    """Positions (1 = next) of the asking user's requests that wait."""


def _setting(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, got {raw!r}") from None
    if value < 0:
        raise SystemExit(f"{name} must not be negative")
    return value


def _imports(n: int) -> str:
    return f"{n} import" if n == 1 else f"{n} imports"


def _trimmer() -> Any:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        return libc.malloc_trim
    except (OSError, AttributeError):
        return None


_TRIM = _trimmer()


def give_back_memory() -> None:
    """Return the C allocator's free memory to the system (glibc's ``malloc_trim``)."""
    if _TRIM is not None:
        _TRIM(0)


class ImportGate:
    """At most ``slots`` holders at once; up to ``places`` more wait, in order."""

    def __init__(self, slots: int, places: int, wait: float) -> None:
        self.slots = max(1, slots)
        self.places = places
        self.wait = wait
        self._lock = threading.Condition()
        self._running = 0
        self._queue: list[tuple[int, str]] = []  # (ticket, user), first come first
        self._tickets = count(1)

    @classmethod
    def from_env(cls) -> ImportGate:
        return cls(_setting("RESGUARDO_IMPORT_CONCURRENT", 2),
                   _setting("RESGUARDO_IMPORT_QUEUE", 8),
                   float(_setting("RESGUARDO_IMPORT_QUEUE_WAIT", 300)))

    def state(self, user: str | None = None) -> QueueState:
        with self._lock:
            mine = tuple(i + 1 for i, (_t, u) in enumerate(self._queue) if u == user)
            return QueueState(self._running, len(self._queue), self.slots, self.places, mine)

    @contextmanager
    def slot(self, user: str = "") -> Iterator[None]:
        """Hold one slot for the ``with`` block, waiting in the queue for it if need be."""
        with self._lock:
            if self._running < self.slots and not self._queue:
                self._running += 1
            else:
                if len(self._queue) >= self.places:
                    raise ImportsBusy(
                        f"the server is reading {_imports(self._running)} and "
                        f"{len(self._queue)} wait (the queue holds {self.places}); "
                        "try again in a minute",
                        running=self._running, waiting=len(self._queue), retry_after=60)
                ticket = next(self._tickets)
                self._queue.append((ticket, user))
                deadline = time.monotonic() + self.wait
                try:
                    while True:
                        first = self._queue[0][0] == ticket
                        if first and self._running < self.slots:
                            break
                        left = deadline - time.monotonic()
                        if left <= 0:
                            position = [t for t, _u in self._queue].index(ticket) + 1
                            raise ImportsBusy(
                                f"waited {self.wait:g} seconds in the import queue (at "
                                f"position {position}, behind {self._running} running); "
                                "try again later",
                                running=self._running, position=position, retry_after=60)
                        self._lock.wait(left)
                finally:
                    self._queue = [(t, u) for t, u in self._queue if t != ticket]
                    self._lock.notify_all()
                self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                self._lock.notify_all()
            give_back_memory()


_GATE: ImportGate | None = None
_GATE_LOCK = threading.Lock()


def gate() -> ImportGate:
    """The process's gate, made from the environment the first time it is asked for."""
    global _GATE
    with _GATE_LOCK:
        if _GATE is None:
            _GATE = ImportGate.from_env()
        return _GATE
