"""After a correction of its serial, a weapon is still found by the serial it was recorded
under: by trace (service, CLI, API, from a freshly built index and caught up) and by
the duplicate check (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from resguardo.cli import context
from resguardo.cli.main import app as cli_app
from resguardo.domain.registry import FirearmInput
from resguardo.services import custody, duplicates, registry, trace_index
from resguardo.services import trace as service

from world import do, look


def correct_serial(world, serial: str, new: str) -> int:  # type: ignore[no-untyped-def]
    fid = look(world, None, lambda uow: uow.repo.firearm(serial).id)
    do(world, "armero1", custody.correct, fid, {"serial": new}, "Serie mal capturada")
    do(world, "jefe1", custody.approve_correction, serial)
    return fid


def traced(world, serial: str, user: str = "investigador") -> list[dict]:  # type: ignore[no-untyped-def]
    answer = do(world, user, service.trace, service.TraceInput(serial, limit=5))
    return answer["candidates"]


def test_tracing_the_original_serial_after_a_correction_finds_the_weapon(world):
    traced(world, "GLK-A100")  # the index exists before the correction: it catches up
    correct_serial(world, "GLK-A100", "ZZ999999")
    best = traced(world, "GLK-A100")[0]
    assert (best["serial"], best["former_serial"], best["distance"]) == (
        "ZZ999999", "GLK-A100", 0.0)
    assert best["agency"] == "MUN1"
    # a damaged reading of the original serial finds it too
    assert traced(world, "GLK-A1?0")[0]["serial"] == "ZZ999999"
    # the new serial matches as the weapon's own
    now = traced(world, "ZZ999999")[0]
    assert (now["serial"], now["former_serial"]) == ("ZZ999999", None)


def test_a_freshly_built_index_holds_the_former_serials(world):
    correct_serial(world, "GLK-A100", "ZZ999999")
    correct_serial(world, "ZZ999999", "ZZ999998")  # corrected twice: both earlier serials
    trace_index.forget(world.engine)
    with world.read(None) as uow:
        entry = trace_index.TraceIndex(trace_index.SerialIndex())
        trace_index.build(uow, entry)
    assert {trace_index.firearm_of(c.id) for c in entry.index.search("GLK-A100")
            if c.distance == 0} == {
        look(world, None, lambda uow: uow.repo.firearm("ZZ999998").id)}
    for serial in ("GLK-A100", "ZZ999999"):
        best = traced(world, serial)[0]
        assert (best["serial"], best["former_serial"]) == ("ZZ999998", serial)


def test_a_former_serial_is_found_only_within_the_callers_scope(world):
    correct_serial(world, "GLK-A100", "ZZ999999")
    assert [c["serial"] for c in traced(world, "GLK-A100", "investigador2")] == []


def test_the_cli_and_the_api_trace_the_original_serial(world):
    correct_serial(world, "GLK-A100", "ZZ999999")
    context.set_deployment(world)
    try:
        result = CliRunner().invoke(cli_app, ["--as", "investigador", "trace", "GLK-A100",
                                              "--json"])
    finally:
        context.set_deployment(None)
    assert result.exit_code == 0, result.output
    best = json.loads(result.stdout)["candidates"][0]
    assert (best["serial"], best["former_serial"]) == ("ZZ999999", "GLK-A100")


def test_check_duplicates_compares_every_serial_a_weapon_was_recorded_under(world):
    correct_serial(world, "GLK-A100", "ZZ999999")
    # another agency registers a weapon under the serial the first one was recorded under
    do(world, "armero2", registry.register_firearm, "MUN2", "ARM1", FirearmInput(
        serial="GLK-A100", make="Glock", calibre="9x19mm", kind="pistol"))
    result = look(world, "supervisor", duplicates.check_duplicates)
    found = [f for f in result["findings"] if f["kind"] == "former_serial"]
    assert len(found) == 1 and result["summary"]["former_serial"] == 1
    first, second = found[0]["first"], found[0]["second"]
    assert (first["serial"], first["agency"]) == ("GLK-A100", "MUN2")
    assert (second["serial"], second["agency"], second["former_serial"]) == (
        "ZZ999999", "MUN1", "GLK-A100")
    # a weapon's own former serial is no finding about itself
    assert all(f["first"]["serial"] != f["second"]["serial"] for f in result["findings"])
