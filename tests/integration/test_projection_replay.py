"""Random sequences of custody operations: the projection always equals the
replay of the log, each weapon's row equals the fold of its own entries through
``domain.firearm_state`` (the rule trace replays), and the custody invariants hold
after every step."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from resguardo.domain.errors import DomainError, InvalidTransition
from resguardo.domain.firearm_state import COLUMNS, WeaponState, fold
from resguardo.domain.trace_custody import CustodyState, step
from resguardo.services import ammunition, credential, custody, registry
from resguardo.storage import rebuild
from resguardo.storage import tables as t

from world import do, look

SERIALS = ["GLK-A100", "GLK-A200", "GLK-A300", "GLK-A400", "GLK-A500"]
BADGES = ["P1", "P2", "P3"]
LOCATIONS = ["ARM1", "ARM2"]

serial = st.sampled_from(SERIALS)
badge = st.sampled_from(BADGES)
location = st.sampled_from(LOCATIONS)

operations = st.one_of(
    st.tuples(st.just("issue"), serial, badge),
    st.tuples(st.just("return"), serial, location),
    st.tuples(st.just("move"), serial, location),
    st.tuples(st.just("repair"), serial),
    st.tuples(st.just("repair_return"), serial, location),
    st.tuples(st.just("lose"), serial, st.booleans()),
    st.tuples(st.just("recover"), serial),
    st.tuples(st.just("release"), serial, location),
    st.tuples(st.just("negligence"), serial, st.booleans()),
    st.tuples(st.just("decommission"), serial),
    st.tuples(st.just("transfer"), serial),
    st.tuples(st.just("receive"), serial),
    st.tuples(st.just("assign"), serial, badge),
    st.tuples(st.just("unassign"), serial, badge),
    st.tuples(st.just("suspend"), badge),
    st.tuples(st.just("reinstate"), badge),
    st.tuples(st.just("correct"), serial, st.sampled_from(["17", "19", "26"])),
    st.tuples(st.just("ammo_in"), location, st.integers(1, 500)),
    st.tuples(st.just("ammo_out"), badge, st.integers(1, 100)),
    st.tuples(st.just("ammo_back"), badge, st.integers(0, 100), st.integers(0, 10)),
)


def run(app, op):  # type: ignore[no-untyped-def]
    kind, *args = op
    a, j = "armero1", "jefe1"
    if kind == "issue":
        do(app, a, custody.issue, args[0], args[1])
    elif kind == "return":
        do(app, a, custody.return_, args[0], args[1])
    elif kind == "move":
        do(app, a, custody.move, args[0], args[1])
    elif kind == "repair":
        do(app, a, custody.send_to_repair, args[0], "Taller", reason=None)
    elif kind == "repair_return":
        do(app, a, custody.return_from_repair, args[0], args[1])
    elif kind == "lose":
        do(app, a, custody.report_missing, args[0], stolen=args[1], occurred_on=date(2025, 3, 1),
           place="Calle 5", on_duty=True, complaint_number="CI-1",
           complaint_authority="FGE Jalisco")
    elif kind == "recover":
        do(app, a, custody.recover, args[0], "FGE Jalisco", "Recuperada en cateo")
    elif kind == "release":
        do(app, j, custody.release, args[0], args[1], "Oficio FGE/LIB/1/2025")
    elif kind == "negligence":
        do(app, j, custody.determine_negligence, args[0], args[1], "Dictamen interno")
    elif kind == "decommission":
        do(app, a, custody.request_decommission, args[0], "Desgaste")
        do(app, j, custody.approve_decommission, args[0])
    elif kind == "transfer":
        do(app, a, custody.request_transfer, args[0], "MUN2", "Reasignación de armamento")
        do(app, j, custody.approve_transfer, args[0])
    elif kind == "receive":
        do(app, "armero2", custody.receive_transfer, args[0], "ARM1")
    elif kind == "assign":
        do(app, j, credential.assign, args[1], args[0])
    elif kind == "unassign":
        do(app, j, credential.unassign, args[1], args[0], "Cambio de adscripción")
    elif kind == "suspend":
        do(app, j, registry.suspend_officer, "MUN1", args[0], "Investigación")
    elif kind == "reinstate":
        do(app, j, registry.reinstate_officer, "MUN1", args[0], "Concluida")
    elif kind == "correct":
        position = look(app, a, lambda uow: uow.repo.firearm(args[0]).id)
        do(app, a, custody.correct, position, {"model": args[1]}, "Modelo mal capturado")
    elif kind == "ammo_in":
        do(app, a, ammunition.receive, "MUN1", args[0], "9x19mm", "L1", args[1])
    elif kind == "ammo_out":
        do(app, a, ammunition.issue, "MUN1", "ARM1", args[0], "9x19mm", "L1", args[1])
    elif kind == "ammo_back":
        do(app, a, ammunition.give_back, "MUN1", "ARM1", args[0], "9x19mm", "L1", args[1],
           args[2], "training", None)


def check_invariants(app) -> None:  # type: ignore[no-untyped-def]
    with app.read(None) as uow:
        for f in uow.repo.firearms(limit=100).items:
            if f.status == "issued":
                assert f.custodian_id is not None and f.location_id is None
            elif f.status == "in_storage":
                assert f.custodian_id is None and f.location_id is not None
            else:
                assert f.custodian_id is None and f.location_id is None
        assert all(r["quantity"] >= 0 for r in uow.repo.ammo_stock() + uow.repo.ammo_held())
        check_fold(uow)
        scratch = rebuild.replay(uow.repo.iter_events())
        try:
            assert rebuild.compare(uow.conn, scratch) == []
        finally:
            scratch.close()


def check_fold(uow) -> None:  # type: ignore[no-untyped-def]
    """Every weapon's row is the fold of its own entries, in log order, through the
    domain's rules; trace's replay (``step``) agrees on what it shows."""
    folded: dict[int, WeaponState] = {}
    traced: dict[int, CustodyState] = {}
    for ev in uow.repo.iter_events():
        fid = ev.position if ev.type == "firearm.registered" else ev.payload.get("firearm_id")
        if fid is None:
            continue
        folded[fid] = fold(folded.get(fid, WeaponState()), ev.type, ev.payload, ev.at,
                           ev.position)
        traced[fid] = step(traced.get(fid, CustodyState()), ev.type, ev.payload)
    rows = {r.id: r for r in uow.conn.execute(select(t.firearms))}
    assert set(rows) == set(folded)
    for fid, state in folded.items():
        row = rows[fid]
        assert {c: getattr(row, c) for c in COLUMNS} == {c: getattr(state, c) for c in COLUMNS}
        trace_columns = ("status", "agency_id", "location_id", "custodian_id",
                         "record_officer_id")
        assert ({c: getattr(traced[fid], c) for c in trace_columns}
                == {c: getattr(row, c) for c in trace_columns})


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=st.lists(operations, min_size=1, max_size=12))
def test_the_projection_always_equals_the_replay_of_the_log(world, ops):
    for op in ops:
        size = look(world, None, lambda uow: uow.repo.log_size())
        try:
            run(world, op)
        except DomainError:
            # a refusal is a valid outcome, and leaves nothing behind (a decommission or
            # transfer refused at approval keeps its request, which was its own transaction)
            after = look(world, None, lambda uow: uow.repo.log_size())
            assert after - size <= {"decommission": 1, "transfer": 1}.get(op[0], 0)
    check_invariants(world)


def test_two_concurrent_issues_of_one_firearm_let_exactly_one_succeed(world):
    barrier = threading.Barrier(6)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(badge: str) -> None:
        barrier.wait()
        try:
            do(world, "armero1", custody.issue, "GLK-A100", badge)
            result = "ok"
        except InvalidTransition:
            result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(BADGES[i % 3],)) for i in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(outcomes) == ["ok"] + ["refused"] * 5
    issued = look(world, None, lambda uow: [e for e in uow.repo.firearm_history(
        uow.repo.firearm("GLK-A100").id) if e.type == "custody.issued"])
    assert len(issued) == 1
    check_invariants(world)


@pytest.mark.parametrize("table,column,value", [
    ("firearms", "status", "'issued'"),
    ("officers", "status", "'suspended'"),
])
def test_a_projection_row_edited_behind_the_logs_back_is_reported(world, table, column, value):
    from sqlalchemy import text
    with world.engine.begin() as conn:
        conn.execute(text(f"UPDATE {table} SET {column} = {value} WHERE id = "
                          f"(SELECT min(id) FROM {table})"))
    with world.read(None) as uow:
        scratch = rebuild.replay(uow.repo.iter_events())
        diffs = rebuild.compare(uow.conn, scratch)
    assert [(d.table, d.problem, list(d.columns)) for d in diffs] == [(table, "differs", [column])]
