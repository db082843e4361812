"""The deployment as the entry points see it: settings, engine, units of work."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from typing import Any

from resguardo.config import Settings
from resguardo.domain.entities import Actor
from resguardo.domain.timefmt import utcnow
from resguardo.storage.database import make_engine
from resguardo.storage.uow import ActorResolver, UnitOfWork

# Importing registers the inspection lockdown guard and the open-findings alerts.
from resguardo.services import inspections as _inspections  # noqa: E402,F401  isort: skip
# Importing registers the ledger's automatic checkpoints and the signing key made at init.
from resguardo.services import ledger as _ledger  # noqa: E402,F401  isort: skip
# Importing registers the grants-of-power alerts for auditors.
from resguardo.services import powers as _powers  # noqa: E402,F401  isort: skip


class Resguardo:
    """One deployment: where its database is and how to open work on it."""

    def __init__(self, settings: Settings | None = None, *, engine: Any = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings or Settings.from_env()
        self._engine = engine
        self.clock = clock

    @cached_property
    def engine(self) -> Any:
        if self._engine is not None:
            return self._engine
        return make_engine(self.settings.database_url,
                           synchronous=self.settings.sqlite_synchronous)

    def work(self, actor: Actor | str | ActorResolver | None, *, write: bool = True,
             request_id: str | None = None, credential: str | None = None) -> UnitOfWork:
        """A unit of work acting as ``actor`` (a username, an Actor, or None for the system).

        ``credential`` names what the actor proved (``surface:kind:id``); it is recorded
        with every entry the unit of work commits (an Actor may carry its own).
        """
        return UnitOfWork(self.engine, actor, write=write, clock=self.clock,
                          request_id=request_id, credential=credential)

    def read(self, actor: Actor | str | None) -> UnitOfWork:
        return self.work(actor, write=False)
