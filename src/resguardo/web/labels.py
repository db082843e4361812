"""Labels for the stable codes the domain stores (translated where they are shown)."""

from __future__ import annotations

from resguardo.domain.movements import MOVEMENTS
from resguardo.domain.vocabulary import OFFICER_STATUS_NAMES, STATUS_NAMES, capitalized
from resguardo.web.i18n import N_

#: A weapon's status: the English word of the one vocabulary, which the catalogue says in
#: each language (``i18n.domain_words``).
STATUS = {code: capitalized(word) for code, word in STATUS_NAMES["en"].items()}

KIND = {
    "pistol": N_("Pistol"),
    "revolver": N_("Revolver"),
    "rifle": N_("Rifle"),
    "carbine": N_("Carbine"),
    "shotgun": N_("Shotgun"),
    "submachine_gun": N_("Submachine gun"),
    "other": N_("Other"),
}

OFFICER_STATUS = {code: capitalized(word) for code, word in OFFICER_STATUS_NAMES["en"].items()}

ROLE = {
    "armorer": N_("Armorer"),
    "chief": N_("Chief"),
    "supervisor": N_("Supervisor"),
    "inspector": N_("Inspector"),
    "investigator": N_("Investigator"),
    "auditor": N_("Auditor"),
    "admin": N_("Administrator"),
}

#: Grants of power that take a second admin (services/powers.py).
POWER_KIND = {
    "account": N_("New account with write rights"),
    "password_reset": N_("Password reset"),
    "role": N_("Role or scope change"),
    "service_account": N_("Service account"),
}

ORG_KIND = {
    "national": N_("National authority"),
    "military_zone": N_("Military zone"),
    "state": N_("State secretariat"),
    "agency": N_("Agency"),
    "max_distance": N_("Maximum distance"),
    "limit": N_("Number of candidates"),
}

LOCATION_KIND = {
    "armory": N_("Armory"),
    "vault": N_("Vault"),
    "station": N_("Station"),
    "vehicle": N_("Vehicle"),
    "repair_shop": N_("Repair shop"),
}

ALERT_KIND = {
    "loss_unnotified": N_("Loss not notified"),
    "issued_to_ineligible": N_("Suspended officer holds a weapon"),
    "credential_expired": N_("Expired credential"),
    "overdue_return": N_("Overdue return"),
    "open_finding": N_("Open finding"),
    "witness_refused": N_("A witness refused the ledger"),
    "witness_unreachable": N_("A witness could not be reached"),
    "storage_full": N_("The storage is full: writes are refused"),
    "power_change": N_("Grant of power"),
    "undeclared_weapon": N_("Weapon not declared on a licence"),
    "no_credential_folio": N_("Carrying without a credential folio"),
}

EVENT = {
    "firearm.registered": N_("Registered"),
    "licence.firearm_attached": N_("Put on or taken off a collective licence"),
    "licence.officer_attached": N_("Officer put on or taken off a collective licence"),
    "custody.issued": N_("Issued to officer"),
    "custody.returned": N_("Returned to storage"),
    "firearm.moved": N_("Moved"),
    "firearm.repair_sent": N_("Sent to repair"),
    "firearm.repair_returned": N_("Back from repair"),
    "firearm.transfer_requested": N_("Transfer requested"),
    "firearm.transfer_sent": N_("Transfer sent"),
    "firearm.transfer_received": N_("Transfer received"),
    "firearm.reported_lost": N_("Reported lost"),
    "firearm.reported_stolen": N_("Reported stolen"),
    "firearm.loss_notified": N_("Military authority notified"),
    "firearm.recovered": N_("Recovered"),
    "firearm.released": N_("Released from evidence"),
    "firearm.negligence_determined": N_("Negligence determined"),
    "firearm.assigned_of_record": N_("Assigned as a weapon of record"),
    "firearm.unassigned_of_record": N_("Withdrawn as a weapon of record"),
    "export.credential": N_("Credential printed"),
    "firearm.decommission_requested": N_("Decommission requested"),
    "entry.correction_requested": N_("Identity correction requested"),
    "firearm.decommissioned": N_("Decommissioned"),
    "request.rejected": N_("Request rejected"),
    "entry.corrected": N_("Entry corrected"),
    "officer.registered": N_("Officer registered"),
    "officer.suspended": N_("Suspended"),
    "officer.reinstated": N_("Reinstated"),
    "officer.separated": N_("Separated"),
    "officer.renewed": N_("Credentials renewed"),
    "custody.override_granted": N_("Override granted by a chief"),
    "auth.pin_set": N_("Desk PIN set"),
    "auth.pin_failed": N_("Wrong desk PIN"),
    "auth.pin_unlocked": N_("Desk PIN lock lifted"),
    "ammunition.received": N_("Rounds received"),
    "ammunition.issued": N_("Rounds issued"),
    "ammunition.returned": N_("Rounds returned"),
    "ammunition.consumed": N_("Rounds used from stock"),
    "alert.acknowledged": N_("Alert acknowledged"),
    "inspection.finding_answered": N_("Inspection finding answered"),
    "inspection.finding_reviewed": N_("Inspection finding reviewed"),
    "inspection.finding_verified": N_("Weapon verified after the inspection"),
    "import.completed": N_("Imported"),
    "import.started": N_("Import started"),
    "import.voided": N_("Import voided"),
    "location.created": N_("Location added"),
    "licence.created": N_("Licence added"),
    "import.firearms": N_("Import of weapons"),
    "import.officers": N_("Import of officers"),
    "import.locations": N_("Import of locations"),
    # a movement that brings its words (``domain.movements``)
    **{m.entry: m.words["en"].entry for m in MOVEMENTS.values() if m.words},
}

#: Why rounds did not come back (ammunition justifications).
JUSTIFICATION = {
    "training": N_("Training"),
    "duty_discharge": N_("Duty discharge"),
    "damaged": N_("Damaged"),
}

#: Fields an entry may show, with their labels.
FIELD = {
    "officer": N_("Officer"),
    "location": N_("Location"),
    "to_agency": N_("Receiving agency"),
    "place": N_("Place"),
    "complaint_number": N_("Complaint number"),
    "occurred_on": N_("Date it happened"),
    "shop": N_("Repair shop"),
    "notified_at": N_("Military authority notified"),
    "serial": N_("Serial"),
    "make": N_("Make"),
    "model": N_("Model"),
    "calibre": N_("Calibre"),
    "kind": N_("Kind"),
    "folio": N_("Registration folio"),
    "reason": N_("Reason"),
    "acquired_on": N_("Acquisition date"),
    "credential_expiry": N_("Credential expiry"),
    "qualification_expiry": N_("Qualification expiry"),
    "planned_on": N_("Planned date"),
    "badge": N_("Badge"),
    "name": N_("Name"),
    "code": N_("Code"),
    "number": N_("Number"),
    "cuip": N_("CUIP"),
    "credential_folio": N_("Credential folio"),
    "credential_issued": N_("Credential issue date"),
    "barrel_serial": N_("Barrel serial"),
    "ballistic_id": N_("Ballistic identification"),
    "purchase_ref": N_("Purchase reference"),
    "supplier": N_("Supplier"),
    "lot": N_("Lot"),
    "quantity": N_("Rounds"),
    "returned": N_("Rounds returned"),
    "consumed": N_("Rounds not returned"),
    "justification": N_("Justification"),
    "incident": N_("Incident number"),
    "firearm": N_("Weapon"),
    "agency": N_("Agency"),
    "max_distance": N_("Maximum distance"),
    "limit": N_("Number of candidates"),
}
#: the fields of a movement that brings its words (``domain.movements``); a field named here
#: already keeps its label
FIELD = {**{f.name: f.label["en"] for m in MOVEMENTS.values() for f in m.inputs if f.label},
         **FIELD}


def label(table: dict[str, str], code: str | None) -> str:
    """The (untranslated) label of a code, or the code itself when none is known."""
    if code is None:
        return ""
    return table.get(code, code.replace("_", " "))

INSPECTION_STATE = {
    "planned": N_("Planned"),
    "open": N_("In progress"),
    "closed": N_("Closed"),
}

FINDING = {
    "missing": N_("Missing"),
    "unregistered": N_("Not registered"),
    "foreign": N_("Registered to another agency"),
    "status_conflict": N_("Status conflict"),
    "mislocated": N_("In another location"),
    "custody_mismatch": N_("Custody mismatch"),
    "duplicate_scan": N_("Seen twice"),
    "explained": N_("Absence explained"),
    "ammunition_difference": N_("Rounds differ"),
    "to_present": N_("In service, to present"),
}

CORRECTION_STATE = {
    "pending": N_("Awaiting approval"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "applied_without_approval": N_("Applied by one person (before the two-person rule)"),
}

FINDING_STATE = {
    "open": N_("Awaiting the agency"),
    "answered": N_("Awaiting review"),
    "closed": N_("Closed"),
    "reopened": N_("Reopened"),
}

RESOLUTION = {
    "found": N_("Found"),
    "reported_lost": N_("Reported lost"),
    "reported_stolen": N_("Reported stolen"),
    "corrected": N_("Records corrected"),
    "registered": N_("Registered"),
    "seized": N_("Seized"),
    "no_action": N_("No action needed"),
}

#: What each kind of ledger-verification finding means, for the auditor reading it.
LEDGER_FINDING = {
    "bad_row": N_("An entry's row is unreadable or sits where no entry can be."),
    "gap": N_("An entry is missing: its row was deleted."),
    "leaf_missing": N_("An entry has no leaf in the tree: it was added behind the "
                       "application's back."),
    "leaf_mismatch": N_("An entry no longer hashes to the leaf recorded when it was written: "
                        "it was edited, replaced, moved or forged."),
    "node_stray": N_("The tree holds a node where none can be."),
    "node_missing": N_("A node of the tree is missing."),
    "node_mismatch": N_("A node of the tree does not match the entries below it."),
    "beyond_head": N_("Entries exist beyond the log's recorded size: they were inserted "
                      "behind the application's back."),
    "extra_leaves": N_("The tree holds more leaves than the log has entries: entries were "
                       "removed from the end."),
    "no_key": N_("The deployment's public key is not available: checkpoint signatures "
                 "could not be checked."),
    "checkpoint_mismatch": N_("A stored checkpoint's size or root was edited: it no longer "
                              "says what its signed note says."),
    "checkpoint_origin": N_("A stored checkpoint was signed for another log."),
    "checkpoint_signature": N_("A stored checkpoint's signature does not verify."),
    "checkpoint_beyond_log": N_("A stored checkpoint vouches for more entries than the log "
                                "now holds: entries were removed."),
    "checkpoint_root": N_("The log no longer produces the root a stored checkpoint signed: "
                          "entries covered by it were changed."),
    "supplied_origin": N_("Your checkpoint was signed for another log."),
    "supplied_signature": N_("Your checkpoint's signature does not verify."),
    "supplied_beyond_log": N_("Your checkpoint vouches for more entries than the log now "
                              "holds: entries were removed."),
    "supplied_root": N_("The log no longer produces the root your checkpoint holds: entries "
                        "covered by it were changed."),
    "supplied_inconsistent": N_("The latest checkpoint does not extend yours: the log was "
                                "rewritten since you kept it."),
    "projection": N_("The current registry disagrees with what its log says: a table was "
                     "edited behind the application's back."),
    "unsigned_tail": N_("Entries have gone unsigned longer than allowed: nothing outside the "
                        "server vouches for them."),
    "cosignature_quorum": N_("The latest checkpoint lacks the witness cosignatures it needs: "
                             "no outside witness vouches for the log as it stands."),
    "cosignature_invalid": N_("A witness cosignature kept by the log does not verify with that "
                              "witness's key."),
    "witness_refused": N_("A witness refused the log: it does not extend what the witness "
                          "cosigned (rewritten, or restored from an older copy)."),
}

#: Label stocks of ``reports.labels.SIZES`` (the same English names, marked for translation).
LABEL_SIZE = {
    "a4-3x8": N_("A4 sheet, 24 labels of 70 x 37 mm (3 x 8)"),
    "letter-3x10": N_("US Letter sheet, 30 labels of 2 5/8 x 1 in (3 x 10, as Avery 5160)"),
    "roll-62x29": N_("Roll, one label of 62 x 29 mm a page (thermal printer)"),
    "roll-51x25": N_("Roll, one label of 2 x 1 in (51 x 25 mm) a page (thermal printer)"),
}

#: Who recorded an entry made by no person (the demo's seed, an import run from the
#: command line, a checkpoint signed as the log grew): the unit of work's ``system_name``.
SYSTEM_ACTOR = "system"
SYSTEM_ACTOR_LABEL = N_("the system")


def who(name: str | None) -> str:
    """The (untranslated) label of who recorded an entry: a username, or "the system"."""
    if name is None or name == SYSTEM_ACTOR:
        return SYSTEM_ACTOR_LABEL
    return name
