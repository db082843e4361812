"""The deployment as the entry points see it: settings, engine, units of work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from resguardo.config import Settings
from resguardo.domain.entities import Actor
from resguardo.domain.timefmt import utcnow
from resguardo.storage.database import make_engine
from resguardo.storage.uow import ActorResolver, AppendHook, UnitOfWork

InitHook = Callable[[Any], list[str]]


@dataclass(frozen=True)
class Wiring:
    """What runs beside the services, handed to them explicitly: nothing registers itself
    when a module is imported. (The revista freeze is no hook: the unit of work enforces
    it whatever the wiring.)"""

    append_hooks: tuple[AppendHook, ...] = ()
    """Run after each appended entry, in its transaction (automatic checkpoints)."""
    init_hooks: tuple[InitHook, ...] = ()
    """Run by `resguardo init` once the schema and the first admin exist (the signing key
    and the first checkpoint); each returns lines to tell the operator."""


def default_wiring() -> Wiring:
    """The deployment as shipped: the ledger signs checkpoints as entries arrive."""
    from resguardo.services import credential, ledger
    return Wiring(append_hooks=(ledger.auto_checkpoint,),
                  init_hooks=(ledger.init_hook, credential.init_hook))


class Resguardo:
    """One deployment: where its database is and how to open work on it."""

    def __init__(self, settings: Settings | None = None, *, engine: Any = None,
                 clock: Callable[[], datetime] = utcnow, wiring: Wiring | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self._engine = engine
        self.clock = clock
        self.wiring = wiring if wiring is not None else default_wiring()

    @cached_property
    def engine(self) -> Any:
        if self._engine is not None:
            return self._engine
        return make_engine(self.settings.database_url,
                           synchronous=self.settings.sqlite_synchronous,
                           busy_timeout=self.settings.busy_timeout)

    def work(self, actor: Actor | str | ActorResolver | None, *, write: bool = True,
             request_id: str | None = None, credential: str | None = None) -> UnitOfWork:
        """A unit of work acting as ``actor`` (a username, an Actor, or None for the system).

        ``credential`` names what the actor proved (``surface:kind:id``); it is recorded
        with every entry the unit of work commits (an Actor may carry its own).
        """
        return UnitOfWork(self.engine, actor, write=write, clock=self.clock,
                          hooks=self.wiring.append_hooks,
                          request_id=request_id, credential=credential)

    @cached_property
    def replica_engine(self) -> Any:
        """The read replica's engine (``RESGUARDO_READ_DATABASE_URL``), or None."""
        url = self.settings.read_database_url
        return make_engine(url) if url else None

    def read(self, actor: Actor | str | None, *, may_lag: bool = False) -> UnitOfWork:
        """A read-only unit of work. ``may_lag``: the read may be served by the read replica
        (dashboards, lists, trace, witness endpoints), which it is when the replica has
        replayed at least the position of the person's last write
        (``storage.positions``), and by the primary otherwise."""
        replica = self.replica_engine if may_lag else None
        if replica is None:
            return self.work(actor, write=False)
        return UnitOfWork(replica, actor, write=False, clock=self.clock, fallback=self.engine)
