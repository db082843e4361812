"""The demonstration deployment shows one serial correction awaiting the chief's approval."""

from __future__ import annotations


def test_the_demo_has_one_identity_correction_pending_approval(demo_app):
    app, result = demo_app
    with app.read("jefe") as uow:
        pending = [r for r in uow.repo.requests("pending") if r["kind"] == "correction"]
        assert len(pending) == 1
        asked = uow.repo.event(int(pending[0]["id"]))
        assert asked.type == "entry.correction_requested" and asked.actor == "armero"
        serial = pending[0]["serial"]
        assert uow.repo.firearm(serial).serial == serial  # still its recorded serial
    assert any(serial in note and "approve correction" in note for note in result.notes)
    app.engine.dispose()


def test_the_demo_recovery_was_held_as_evidence_judged_and_released(demo_app):
    app, _ = demo_app
    with app.read("jefe") as uow:
        types = {e.type for e in uow.repo.iter_events()}
        assert {"firearm.recovered", "firearm.negligence_determined",
                "firearm.released"} <= types
        reports = uow.repo.loss_reports()
        assert all(r["complaint_authority"] == "FGE Jalisco" for r in reports)
        assert [r["negligent"] for r in reports if r["recovered_at"]] == [True]
    app.engine.dispose()


def test_the_demo_officer_has_a_weapon_of_record_his_credential_names(demo_app):
    from resguardo.services import credential

    app, result = demo_app
    key = credential.CredentialKey.of(app.settings)
    with app.work("jefe") as uow:
        card = credential.credential(uow, key, "GDL-0001")
        uow.commit()
    assert len(card.weapons) == 1 and card.statement["w"][0]["s"] == card.weapons[0].serial
    assert any(card.weapons[0].serial in note and "credential print" in note
               for note in result.notes)
    app.engine.dispose()
