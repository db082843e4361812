"""The movement table (``domain.movements``) and its one decision (``custody.perform``):
the movements recorded through it keep the entries they recorded before (payloads written
out here), every field is checked the same way, and a table that says a movement in one
language only, or names an entry the state machine does not know, is refused."""

from __future__ import annotations

from dataclasses import replace

import pytest
from domain_facts import ARM1, ARM2, ARM_MUN2, GUN, S
from hypothesis import given
from hypothesis import strategies as st

from resguardo.domain import custody, firearm_state, movements
from resguardo.domain.errors import InvalidTransition, ValidationFailed
from resguardo.domain.movements import LOCATION, MOVEMENTS, REASON, Input, Movement, Words
from resguardo.domain.policy import Action

STORED = replace(GUN, status=S.IN_STORAGE, location_id=ARM1.id)
IN_REPAIR = replace(GUN, status=S.IN_REPAIR, location_id=None)
HELD = replace(GUN, status=S.HELD_AS_EVIDENCE, location_id=None)


def test_every_movement_records_an_entry_the_state_machine_decides_and_the_page_offers():
    for name, movement in MOVEMENTS.items():
        assert movement.name == name
        assert movement.entry in firearm_state.TRANSITIONS, movement.entry
        assert firearm_state.ACTIONS[name] == movement.entry
        assert movements.BY_ENTRY[movement.entry] is movement


@pytest.mark.parametrize(("decided", "entry", "payload", "reason"), [
    (lambda: custody.move(STORED, ARM2, "Reorganización"), "firearm.moved",
     {"firearm_id": GUN.id, "from_location_id": ARM1.id, "location_id": ARM2.id},
     "Reorganización"),
    (lambda: custody.move(STORED, ARM2), "firearm.moved",
     {"firearm_id": GUN.id, "from_location_id": ARM1.id, "location_id": ARM2.id}, None),
    (lambda: custody.send_to_repair(STORED, "  Taller SEDENA ", "Percutor roto"),
     "firearm.repair_sent",
     {"firearm_id": GUN.id, "from_location_id": ARM1.id, "shop": "Taller SEDENA"},
     "Percutor roto"),
    (lambda: custody.return_from_repair(IN_REPAIR, ARM2), "firearm.repair_returned",
     {"firearm_id": GUN.id, "location_id": ARM2.id}, None),
    (lambda: custody.release(HELD, ARM1, " Oficio FGE/LIB/1/2025 "), "firearm.released",
     {"firearm_id": GUN.id, "location_id": ARM1.id, "reference": "Oficio FGE/LIB/1/2025"},
     None),
], ids=["move", "move-no-reason", "repair_send", "repair_return", "release"])
def test_the_generic_decision_records_the_entries_the_movements_recorded_before(
        decided, entry, payload, reason):
    event = decided()
    assert (event.type, event.payload, event.reason) == (entry, payload, reason)
    assert (event.org_id, event.subject_type, event.subject_id) == (
        GUN.agency_id, "firearm", GUN.id)


@pytest.mark.parametrize(("decided", "error", "field"), [
    (lambda: custody.send_to_repair(STORED, "   ", None), ValidationFailed, "shop"),
    (lambda: custody.release(HELD, ARM1, " "), ValidationFailed, "reference"),
    (lambda: custody.move(STORED, ARM_MUN2), ValidationFailed, "location"),
    (lambda: custody.perform(MOVEMENTS["repair_return"], IN_REPAIR, {}), ValidationFailed,
     "location"),
], ids=["blank-shop", "blank-reference", "other-agency", "no-location"])
def test_each_field_is_refused_naming_it(decided, error, field):
    with pytest.raises(error) as refused:
        decided()
    assert refused.value.details["field"] == field


def test_the_messages_of_the_movements_that_predate_the_table_stay_as_they_were():
    with pytest.raises(ValidationFailed, match="^the repair shop is required$"):
        custody.send_to_repair(STORED, "", None)
    with pytest.raises(ValidationFailed,
                       match="^a release needs the release document's reference$"):
        custody.release(HELD, ARM1, "")
    with pytest.raises(InvalidTransition, match="is already at ARM1"):
        custody.move(STORED, ARM1)
    with pytest.raises(InvalidTransition, match="cannot be sent to repair while in repair"):
        custody.send_to_repair(IN_REPAIR, "Taller", None)


def test_the_state_machine_is_asked_before_any_field():
    """A weapon in the wrong status is refused for that, whatever was typed."""
    with pytest.raises(InvalidTransition):
        custody.send_to_repair(IN_REPAIR, "", None)
    with pytest.raises(InvalidTransition):
        custody.perform(MOVEMENTS["release"], STORED, {})


def test_an_unknown_movement_is_refused_naming_the_field():
    with pytest.raises(ValidationFailed) as refused:
        movements.find("sell")
    assert refused.value.details["field"] == "action"


@given(st.text(max_size=30))
def test_any_text_typed_is_recorded_trimmed_or_refused_naming_its_field(shop):
    try:
        event = custody.send_to_repair(STORED, shop, None)
    except ValidationFailed as refused:
        assert not shop.strip() and refused.details["field"] == "shop"
    else:
        assert event.payload["shop"] == shop.strip() != ""


WORDS = {"en": Words("Send to engraving", "Sent to engraving.", "Sent to engraving",
                     "sent to engraving"),
         "es": Words("Enviar a grabado", "Enviada a grabado.", "Enviada a grabado",
                     "enviada a grabado")}
WORKSHOP = Input("workshop", label={"en": "Engraving workshop", "es": "Taller de grabado"})


def test_a_movement_that_brings_its_words_says_them_in_every_language_and_labels_its_fields():
    with pytest.raises(ValueError, match="say it in en, es"):
        Movement("engraving_send", "firearm.repair_sent", Action.FIREARM_REPAIR, (WORKSHOP,),
                 words={"en": WORDS["en"]})
    with pytest.raises(ValueError, match="label workshop in en, es"):
        Movement("engraving_send", "firearm.repair_sent", Action.FIREARM_REPAIR,
                 (Input("workshop", label={"en": "Laboratory"}),), words=WORDS)
    with pytest.raises(ValueError, match="a location, a text or a reason"):
        Input("workshop", kind="date")
    # a reason needs no label: the pages already say "Reason"
    Movement("engraving_send", "firearm.repair_sent", Action.FIREARM_REPAIR,
             (WORKSHOP, Input("reason", REASON, required=False)), words=WORDS)


def test_the_words_a_movement_brings_reach_the_catalogue(monkeypatch):
    sent = Movement("engraving_send", "firearm.repair_sent", Action.FIREARM_REPAIR,
                    (WORKSHOP, Input("back", LOCATION,
                                label={"en": "Back to", "es": "Regresa a"})), words=WORDS)
    monkeypatch.setitem(MOVEMENTS, sent.name, sent)
    said = movements.said("es")
    assert said["Send to engraving"] == "Enviar a grabado"
    assert said["Sent to engraving."] == "Enviada a grabado."
    assert said["sent to engraving"] == "enviada a grabado"
    assert said["Engraving workshop"] == "Taller de grabado"
    assert movements.said("en")["Sent to engraving"] == "Sent to engraving"
    assert WORKSHOP.key == "workshop" and sent.inputs[1].key == "back_id"
