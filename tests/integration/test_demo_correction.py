"""The demonstration deployment shows one serial correction awaiting the chief's approval."""

from __future__ import annotations

from resguardo.services import demo

from world import make_app


def test_the_demo_has_one_identity_correction_pending_approval(sqlite_url, clock, tmp_path):
    app = make_app(sqlite_url, clock, tmp_path)
    result = demo.build(app, days=1, password="demo-password-long")
    with app.read("jefe") as uow:
        pending = [r for r in uow.repo.requests("pending") if r["kind"] == "correction"]
        assert len(pending) == 1
        asked = uow.repo.event(int(pending[0]["id"]))
        assert asked.type == "entry.correction_requested" and asked.actor == "armero"
        serial = pending[0]["serial"]
        assert uow.repo.firearm(serial).serial == serial  # still its recorded serial
    assert any(serial in note and "approve correction" in note for note in result.notes)
    app.engine.dispose()
