"""An entry's instant never goes before the entry recorded before it.

A trace finds the entries a moment includes by bisection on the log's position, and an
auditor reads the log as a history in time: both need instants that never decrease along
the log. A server's clock can be set back — by NTP, by a failover to a machine whose clock
lags, or by an insider who wants a weapon's return dated before it was recovered at a crime
scene — and the entry must not take that earlier time."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import text

from resguardo.domain.registry import OfficerInput
from resguardo.services import ammunition, registry

from world import do, look


def _at(app, position: int) -> str:  # type: ignore[no-untyped-def]
    with app.engine.connect() as conn:
        return conn.execute(text("SELECT at FROM events WHERE position = :p"),
                            {"p": position}).scalar_one()


def _head(app) -> int:  # type: ignore[no-untyped-def]
    return look(app, None, lambda uow: uow.repo.log_size())


def test_a_clock_set_back_cannot_date_an_entry_before_the_last_one(world, clock):  # type: ignore[no-untyped-def]
    do(world, "armero1", ammunition.receive, "MUN1", "ARM1", "9x19mm", "L-1", 100)
    last = _at(world, _head(world) - 1)
    clock.now -= timedelta(days=3)  # the insider sets the server's clock back three days
    do(world, "armero1", ammunition.receive, "MUN1", "ARM1", "9x19mm", "L-2", 100)
    assert _at(world, _head(world) - 1) == last
    clock.now += timedelta(days=4)  # the clock right again: entries take its time
    do(world, "armero1", ammunition.receive, "MUN1", "ARM1", "9x19mm", "L-3", 100)
    assert _at(world, _head(world) - 1) > last


def test_a_batch_of_entries_is_not_dated_before_the_log_either(world, clock):  # type: ignore[no-untyped-def]
    do(world, "armero1", ammunition.receive, "MUN1", "ARM1", "9x19mm", "L-1", 100)
    last = _at(world, _head(world) - 1)
    clock.now -= timedelta(hours=1)
    before = _head(world)
    far = date(2030, 1, 1)
    do(world, "admin", registry.add_officers, "MUN1",
       [OfficerInput(f"B{n}", f"Agente {n}", credential_expiry=far, qualification_expiry=far)
        for n in range(3)])
    instants = [_at(world, p) for p in range(before, _head(world))]
    assert len(instants) >= 3 and all(at == last for at in instants)


def test_instants_never_decrease_along_the_whole_log(world):  # type: ignore[no-untyped-def]
    size = _head(world)
    instants = [_at(world, p) for p in range(size)]
    assert instants == sorted(instants)
