"""Refusals in words an armorer understands, translated by error code.

Every ``DomainError`` carries a stable ``code`` and details; the sentence shown
is chosen here from the code and details, in the visitor's language. A refusal
raised with a template (``domain.errors.T_``) is translated from the catalogue
by its template and filled with its parameters (``said``); messages the domain
writes as fixed sentences are listed below so they are extracted into the
catalogue and translated as they are. Nothing here reads the English text a
refusal was rendered into (``tests/web/test_refusal_catalogue.py`` keeps it so).
"""

from __future__ import annotations

from typing import Any

from resguardo.domain.errors import DomainError, Phrase, shown
from resguardo.domain.movements import MOVEMENTS
from resguardo.domain.vocabulary import status_name
from resguardo.web import labels
from resguardo.web.i18n import N_, Lang

#: Fixed sentences the domain and services refuse with (translated by message).
DOMAIN_MESSAGES = (
    N_("a correction needs a written reason"),
    N_("a decommission needs a written reason"),
    N_("a duty discharge needs the incident number"),
    N_("a separation needs a written reason"),
    N_("a suspension needs a written reason"),
    N_("a loss or theft needs the complaint (denuncia) number"),
    N_("a loss or theft needs the authority the complaint was filed with"),
    N_("say whether it happened on duty or off duty"),
    N_("the person who reported this loss cannot determine whether it was negligence"),
    N_("negligence was already determined for this report"),
    N_("a negligence determination needs a written reason"),
    N_("say whether it was negligence"),
    N_("withdrawing a weapon of record needs a written reason"),
    N_("the officer belongs to another agency"),
    N_("no loss or theft report for this firearm"),
    N_("name the authority that holds it as evidence"),
    N_("a release needs the release document's reference"),
    N_("a transfer must go to another agency"),
    N_("a transfer needs a written reason"),
    N_("an agency cannot have organizations below it"),
    N_("an override lasts between a moment and 72 hours"),
    N_("an override needs a written reason (at least 10 characters)"),
    N_("every organization but the national authority needs a parent"),
    N_("give a new credential expiry or qualification expiry"),
    N_("the new credential expiry is in the past"),
    N_("the new qualification expiry is in the past"),
    N_("the credential issue date is in the future"),
    N_("the credential expires before its issue date"),
    N_("officer belongs to another agency"),
    N_("location belongs to another agency"),
    N_("say how and where it was recovered"),
    N_("say what was done about the alert"),
    N_("say why the request is rejected"),
    N_("scan or type the officer's badge"),
    N_("scan or type the weapon's serial"),
    N_("serial has no letters or digits"),
    N_("serial is empty"),
    N_("the PIN cannot repeat one digit"),
    N_("the PIN must be 4 to 8 digits"),
    N_("say why the PIN lock is lifted"),
    N_("the officer types their PIN to take a weapon"),
    N_("confirm that you checked the officer's identity in person"),
    N_("every officer chosen already has a PIN"),
    N_("the acquisition date is in the future"),
    N_("the date of the loss cannot be in the future"),
    N_("the licence ends before it starts"),
    N_("give the reason (the military zone's acknowledgement, the purchase, the error "
       "corrected)"),
    N_("the notification time cannot be in the future"),
    N_("the override must expire in the future"),
    N_("the place where it happened is required"),
    N_("the receiving location must belong to the receiving agency"),
    N_("the repair shop is required"),
    N_("the shift desk acts for a person"),
    N_("the shift desk works within one agency"),
    N_("this agency has no location to return weapons to"),
    N_("username: 2-64 lower-case letters, digits, dots, hyphens"),
    N_("wrong authenticator code"),
    N_("wrong username or password"),
    N_("enter the code from your authenticator app"),
    # raised by the web pages themselves
    N_("the two PINs differ"),
    N_("hours must be a number"),
    N_("say whether it was lost or stolen"),
    N_("say whether it happened on duty"),
    N_("the planned date is required"),
    N_("give the dates the licence is valid"),
    N_("choose a finding"),
    N_("narrow the list before printing labels (up to 20 sheets at a time)"),
    N_("the weapon is not issued to anyone now"),
    N_("choose what to do"),
    N_("change at least one field to correct it"),
    N_("choose what the file holds"),
    N_("choose the file to import"),
    N_("the file is larger than 64 MB; import it with the `resguardo import` command"),
    N_("the uploaded file is no longer here; upload it again"),
    N_("give the agency (your scope is not a single agency)"),
    N_("choose a token"),
    N_("name the token (1-200 printable characters)"),
    N_("the expiry is in the past"),
    N_("the token is already revoked"),
    N_("say why the account is disabled"),
    N_("the new password must differ from the one-time password"),
    N_("ask another admin to change your own account"),
    N_("give the scope of the account"),
    N_("say why the account is enabled again"),
    N_("an admin cannot disable their own account"),
    N_("a service account has no password; it uses tokens"),
    # inspections
    N_("the planned date is in the past"),
    N_("the scanned serial is empty"),
    N_("the scanned serial is longer than 60 characters"),
    N_("explain the answer"),
    N_("say why the blind count is revealed"),
    N_("the acta exists once the inspection is closed"),
    N_("the planned date must be YYYY-MM-DD"),
    N_("quantity cannot be negative"),
    N_("location, calibre and lot are required"),
    # ammunition, transfers and the other refusals a page can meet
    N_("nothing returned or consumed"),
    N_("choose the weapon to receive"),
    N_("choose where the weapon is stored"),
    N_("no weapon on its way to your agency with that reference"),
    N_("no open loss or theft report for this firearm"),
    N_("no pending transfer request for this firearm"),
    N_("no pending decommission request for this firearm"),
    N_("no pending correction request for this firearm"),
    N_("the kind of request is decommission, transfer or correction"),
    N_("the corrected values equal the recorded ones"),
    N_("the corrected make and serial are already registered"),
    N_("expectations can be revealed only during an open inspection; after closing they are "
       "in the findings"),
    N_("'*' may only stand at the start or the end of a trace query"),
    N_("a trace query needs at least one readable character"),
    N_("give the serial as read, or say it is obliterated"),
    N_("an investigator reads only their own traces"),
    N_("date must be YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)"),
    N_("limit must be at least 1"),
    N_("the stored acta does not match the hash in the ledger; run `resguardo ledger verify`"),
)

#: Said when the role may not do something the page does not name.
SOMETHING = N_("do this")

ACTIONS = {
    "read": N_("see this"),
    "firearm.register": N_("register firearms"),
    "custody.issue": N_("issue weapons"),
    "custody.return": N_("take weapons back"),
    "firearm.move": N_("move weapons"),
    "firearm.repair": N_("send weapons to repair"),
    "firearm.report_loss": N_("report a loss or theft"),
    "firearm.notify_loss": N_("record the notification to the military authority"),
    "firearm.recover": N_("record a recovery"),
    "firearm.release": N_("record a release from evidence"),
    "negligence.determine": N_("determine negligence"),
    "firearm.assign_of_record": N_("assign weapons of record"),
    "decommission.request": N_("ask for a decommission"),
    "decommission.approve": N_("approve a decommission"),
    "correction.approve": N_("approve an identity correction"),
    "transfer.request": N_("ask for a transfer"),
    "transfer.approve": N_("approve a transfer"),
    "transfer.receive": N_("receive a transfer"),
    "entry.correct": N_("correct an entry"),
    "override.grant": N_("grant an override"),
    "officer.manage": N_("manage officers"),
    "ammunition.manage": N_("manage ammunition"),
    "alert.ack": N_("acknowledge alerts"),
    "inspection.order": N_("order inspections"),
    "inspection.conduct": N_("conduct inspections"),
    "trace": N_("trace weapons"),
    "ledger.read": N_("see the ledger's size and checkpoints"),
    "ledger.verify": N_("verify the ledger"),
    "access_log.read": N_("read the access log"),
    "organization.manage": N_("manage organizations"),
    "location.manage": N_("manage locations"),
    "licence.manage": N_("manage licences"),
    "licence.declare": N_("put weapons on a collective licence"),
    "user.manage": N_("manage users"),
}

_VERBS = {
    "custody.issued": N_("issued"),
    "custody.returned": N_("taken back"),
    "firearm.moved": N_("moved"),
    "firearm.repair_sent": N_("sent to repair"),
    "firearm.repair_returned": N_("booked back from repair"),
    "firearm.transfer_requested": N_("put up for transfer"),
    "firearm.transfer_sent": N_("sent on transfer"),
    "firearm.transfer_received": N_("received on transfer"),
    "firearm.reported_lost": N_("reported lost"),
    "firearm.reported_stolen": N_("reported stolen"),
    "firearm.recovered": N_("recovered"),
    "firearm.released": N_("released from evidence"),
    "firearm.decommission_requested": N_("put up for decommission"),
    "firearm.decommissioned": N_("decommissioned"),
    # a movement that brings its words (``domain.movements``)
    **{m.entry: m.words["en"].verb for m in MOVEMENTS.values() if m.words},
}

#: A workbook refused while it was read as a stream, by the limit it passed
#: (``details["limit"]``; ``value`` is the limit, ``part`` the workbook part).
_WORKBOOK_LIMITS = {
    "inflated": N_("The workbook %(file)s was refused: its contents inflate past %(value)s, "
                   "the limit."),
    "uncompressed": N_("The workbook %(file)s was refused: its contents would inflate past "
                       "%(value)s, the limit."),
    "ratio": N_("The workbook %(file)s was refused as a decompression bomb: %(part)s would "
                "inflate more than %(value)s times its size."),
    "cells": N_("The workbook %(file)s was refused: its sheets hold more than %(value)s "
                "cells, the limit."),
    "rows": N_("The workbook %(file)s was refused: it has a row past Excel's last row "
               "(%(value)s)."),
    "columns": N_("The workbook %(file)s was refused: it has a cell past Excel's last column "
                  "(%(value)s)."),
    "strings": N_("The workbook %(file)s was refused: its table of texts holds more than "
                  "%(value)s texts, the limit. Save the sheet as CSV."),
    "shared_text": N_("The workbook %(file)s was refused: its table of texts holds more than "
                      "%(value)s of text, the limit. Save the sheet as CSV."),
    "seconds": N_("The workbook %(file)s was refused: reading it took longer than %(value)s "
                  "seconds, the limit."),
    "depth": N_("The workbook %(file)s was refused: its XML is nested more than %(value)s "
                "levels deep, the limit."),
    "markup": N_("The workbook %(file)s was refused: one piece of its XML (a tag or comment) "
                 "is longer than %(value)s, the limit."),
    "text": N_("The workbook %(file)s was refused: one cell or text holds more than %(value)s "
               "characters, the limit."),
    "item": N_("The workbook %(file)s was refused: one row or text of it is longer than "
               "%(value)s of XML, the limit."),
    "styles": N_("The workbook %(file)s was refused: its styles hold more than %(value)s "
                 "elements, the limit."),
    "elements": N_("The workbook %(file)s was refused: %(part)s holds more than %(value)s "
                   "elements, the limit."),
    "part": N_("The workbook %(file)s was refused: its part %(part)s is larger than "
               "%(value)s, the limit for a part read whole."),
    "doctype": N_("The workbook %(file)s was refused: it declares a document type "
                  "(entities), which no workbook has."),
    "xml": N_("The workbook %(file)s is damaged: %(part)s is not well-formed XML."),
}


#: How the page says a refusal raised with a template (``domain.errors.T_``) when it says
#: more than the template's own sentence (what to do next, a friendlier subject), by
#: template. Every other template is translated as it is. Looked up by the template, never
#: by the English text the parameters were filled into.
WORDING: dict[str, str] = {
    # eligibility (``domain.custody.eligibility_problems``)
    "officer is suspended": N_("the officer is suspended"),
    "officer is separated from the agency": N_("the officer is separated from the agency"),
    "officer has no carry credential on record": N_("there is no carry credential on record"),
    "carry credential expired on %(date)s": N_("the carry credential expired on %(date)s"),
    "officer has no firearms qualification on record":
        N_("there is no firearms qualification on record"),
    "qualification expired on %(date)s": N_("the firearms qualification expired on %(date)s"),
    # fields
    "%(field)s contains control characters":
        N_("%(field)s contains characters that are not allowed"),
    "%(field)s must be 1-64 letters, digits, dots, hyphens or underscores":
        N_("%(field)s: use 1 to 64 letters, digits, dots, hyphens or underscores"),
    "%(field)s must be a whole number of rounds": N_("%(field)s: write a whole number of rounds"),
    "%(field)s must be a positive number of rounds":
        N_("%(field)s: write a number of rounds above zero"),
    "%(field)s must be a date YYYY-MM-DD": N_("%(field)s must be a date"),
    "%(field)s is implausibly large":
        N_("%(field)s is far larger than any real count; check the number"),
    # registry, accounts and PINs
    "location %(location)s belongs to another agency than %(agency)s":
        N_("The location %(location)s is not one of %(agency)s: an inspection counts the "
           "locations of the agency it inspects. Untick it, or plan the inspection of its own "
           "agency."),
    "%(badge)s already has a PIN: only a chief can replace it":
        N_("%(badge)s already has a PIN: only a chief can replace it, on the officer's page."),
    "these officers already have a PIN: %(badges)s; a chief replaces a PIN on the officer's "
    "page": N_("These officers already have a PIN: %(badges)s. A chief replaces a PIN on the "
               "officer's page."),
    "organization code %(code)s is already in use":
        N_("The code %(code)s is already in use by another organization."),
    "location %(code)s already exists in %(agency)s":
        N_("%(agency)s already has a location %(code)s."),
    "firearm %(serial)s is already on licence %(number)s":
        N_("%(serial)s is already on licence %(number)s."),
    "firearm %(serial)s is on no licence": N_("%(serial)s is on no licence."),
    "request %(n)s is already %(status)s": N_("Request %(n)s was already decided."),
    "user %(user)s is already disabled": N_("The account %(user)s is already disabled."),
    "user %(user)s is already enabled": N_("The account %(user)s is already enabled."),
    "a %(role)s must be scoped to one agency":
        N_("This role works within one agency: choose an agency as its scope."),
    "%(code)s is not an agency; locations belong to agencies":
        N_("%(code)s is not an agency: locations belong to agencies."),
    "%(code)s is not an agency; imports are per agency": N_("%(code)s is not an agency."),
    "%(code)s is not below the holder %(holder)s":
        N_("%(code)s is not below the licence holder %(holder)s."),
    "%(file)s: no rows to import":
        N_("The file %(file)s has no rows to import: it holds a header and nothing below it."),
    "time zone %(zone)s is not an IANA zone such as America/Mexico_City or America/Hermosillo":
        N_("%(zone)s is not a time zone: write one such as America/Mexico_City or "
           "America/Hermosillo."),
    "unknown calibre %(given)s; closest: %(closest)s":
        N_("The calibre %(value)s is not in the list; the closest: %(closest)s."),
    "unknown calibre %(given)s; see `resguardo calibres` for the list":
        N_("The calibre %(value)s is not in the list of calibres."),
    "alert %(key)s is already acknowledged": N_("This alert is already acknowledged."),
    "refusing to sign a checkpoint: %(reason)s; run `resguardo ledger verify`":
        N_("No checkpoint was signed: the log does not verify. Verify the ledger to see what "
           "disagrees."),
    # officers and custody
    "officer %(badge)s is %(status)s, not active": N_("Officer %(badge)s is not active."),
    "officer %(badge)s is %(status)s, not suspended": N_("Officer %(badge)s is not suspended."),
    "officer %(badge)s is separated: no override possible":
        N_("Officer %(badge)s is separated: no override is possible."),
    "a transfer of %(serial)s is already awaiting approval":
        N_("A request for %(serial)s is already awaiting approval."),
    "a decommission of %(serial)s is already awaiting approval":
        N_("A request for %(serial)s is already awaiting approval."),
    "a correction of %(serial)s is already awaiting approval":
        N_("A request for %(serial)s is already awaiting approval."),
    "firearm %(serial)s is already at %(location)s":
        N_("%(serial)s is already at %(location)s."),
    "the military authority was already notified at %(when)s":
        N_("The military authority's notification is already recorded."),
    "firearm %(serial)s is already %(who)s's weapon of record":
        N_("%(serial)s is already this officer's weapon of record."),
    "firearm %(serial)s is the weapon of record of %(who)s; withdraw it first":
        N_("%(serial)s is the weapon of record of %(who)s: withdraw it first."),
    "officer %(badge)s is %(status)s; only an active officer is assigned a weapon of record":
        N_("Officer %(badge)s is not active: only an active officer is assigned a weapon of "
           "record."),
    "officer %(badge)s has no credential folio and expiry on record: the weapon of record is "
    "printed on the credential":
        N_("Officer %(badge)s has no credential folio and expiry on record: the weapon of "
           "record is printed on the credential."),
    "the credential of officer %(badge)s expired on %(date)s; renew it first":
        N_("The credential of officer %(badge)s expired on %(date)s: renew it first."),
    "firearm %(serial)s is not a weapon of record of %(who)s":
        N_("%(serial)s is not a weapon of record of %(who)s."),
    # ammunition
    "only %(balance)s rounds of %(calibre)s lot %(lot)s at %(location)s; cannot issue "
    "%(quantity)s": N_("Only %(balance)s rounds of %(calibre)s lot %(lot)s at %(location)s."),
    "only %(balance)s rounds of %(calibre)s lot %(lot)s at %(location)s; cannot consume "
    "%(quantity)s": N_("Only %(balance)s rounds of %(calibre)s lot %(lot)s at %(location)s."),
    "officer %(badge)s holds %(outstanding)s rounds of %(calibre)s lot %(lot)s; cannot account "
    "for %(quantity)s":
        N_("Officer %(badge)s holds only %(outstanding)s rounds of %(calibre)s lot %(lot)s."),
    "consumed rounds need a justification: %(accepted)s":
        N_("Rounds not returned need a justification: training, duty discharge or damaged."),
    # inspections
    "inspection %(n)s is already open at this agency":
        N_("Another inspection is already open at this agency."),
    "inspection %(n)s is %(state)s; only a planned inspection can be opened":
        N_("Only a planned inspection can be opened."),
    "inspection %(n)s is %(state)s; scans are recorded only while it is open":
        N_("Scans are recorded only while the inspection is open."),
    "inspection %(n)s is not open": N_("The inspection is not open."),
    "inspection %(n)s is %(state)s; only an open inspection can be closed (a closed one is "
    "never reopened: plan a new one)": N_("Only an open inspection can be closed."),
    "location %(location)s is outside this inspection's scope (%(locations)s)":
        N_("Location %(location)s is outside this inspection's scope."),
    "finding %(n)s is already answered and awaits the inspector's review":
        N_("This finding is already answered."),
    "a %(kind)s finding needs no answer": N_("This kind of finding needs no answer."),
    "person %(person)s present (%(given)s) must be written 'name | post | identification', "
    "e.g. 'Cap. Juan Ruiz Soto | Inspector de la 15/a. Zona Militar | Credencial SEDENA "
    "A-123456'": N_("Person %(person)s present: write name | post | identification, one person "
                    "per line."),
    "person %(person)s present has no %(part)s; give each person as 'name | post | "
    "identification'": N_("Person %(person)s present lacks a part: write name | post | "
                          "identification."),
    "the %(part)s of person %(person)s present is longer than %(limit)s characters":
        N_("Person %(person)s present: each part takes at most %(limit)s characters."),
    "at most %(most)s people present can sign the acta; %(given)s were given":
        N_("At most %(most)s people present can sign the acta."),
}

#: Parameters that are counts of rounds, written as numbers in the visitor's locale.
_COUNTS = frozenset({"balance", "outstanding", "quantity"})


def said(template: str, params: dict[str, Any], lang: Lang, *, page: bool = True) -> str:
    """A refusal raised with a template, in the visitor's language: the template (or how
    the page says it, ``WORDING``, when ``page``) from the catalogue, filled with its
    parameters said for a person (a field by its label, a date and a count of rounds in the
    locale, a status in the one vocabulary, a list as its items)."""
    message = WORDING.get(template, template) if page else template
    values = {name: _value(name, value, lang) for name, value in params.items()}
    return lang.gettext(message, **values) if values else lang.gettext(message)


def _value(name: str, value: Any, lang: Lang) -> Any:
    if name == "field" and isinstance(value, str) and value:
        return lang.gettext(labels.label(labels.FIELD, value))
    if name == "date" and value:
        return lang.date(value)
    if name in _COUNTS and isinstance(value, int):
        return lang.number(value)
    if name == "status" and isinstance(value, str):
        return status_name(value, lang.code)
    return shown(value)


def problem(text: str, lang: Lang) -> str:
    """One reason an officer may not receive a weapon, in the visitor's language."""
    if isinstance(text, Phrase):
        return said(text.template, text.params, lang)
    return lang.gettext(text)


def explain(exc: DomainError, lang: Lang) -> str:
    """The sentence shown for a refusal."""
    _ = lang.gettext
    d = exc.details
    code = exc.code
    if code == "not_found":
        if "serial" in d:
            return _("No weapon with serial %(serial)s in your registry.", serial=d["serial"])
        if "badge" in d:
            return _("No officer with badge %(badge)s in this agency.", badge=d["badge"])
        if "location" in d:
            return _("No location %(location)s in this agency.", location=d["location"])
        if "organization" in d:
            return _("No organization %(code)s in your scope.", code=d["organization"])
        if "licence" in d:
            return _("No licence %(number)s covers an agency in your scope.",
                     number=d["licence"])
        known = _(exc.message)
        if known != exc.message:
            return sentence(known)
        return _("Not found, or outside what you may see.")
    if code == "second_admin_required":
        return _("This change needs a second administrator: request it below, and another "
                 "administrator approves it.")
    if code == "permission_denied" and d.get("account") == "service":
        return _("A service account cannot do this: a person must.")
    if code == "permission_denied":
        role = _(labels.label(labels.ROLE, d.get("role")))
        action = _(ACTIONS.get(d.get("action", ""), SOMETHING))
        return _("Your role (%(role)s) may not %(action)s.", role=role, action=action)
    if exc.templated:
        return sentence(said(exc.template, exc.params, lang))
    if code in ("invalid_transition", "officer_not_eligible") and not d:
        # raised with a fixed sentence and no details: translate the sentence
        known = _(exc.message)
        if known != exc.message:
            return sentence(known)
    if code == "invalid_transition":
        serial = d.get("serial", "")
        status = status_name(d.get("status") or "", lang.code)
        if d.get("holder"):
            return _("%(serial)s is issued to %(holder)s. It must be returned by that officer "
                     "first.", serial=serial, holder=d["holder"])
        if d.get("status") == "held_as_evidence":
            return _("%(serial)s is held as evidence: it cannot be issued or moved until a chief "
                     "records its release.", serial=serial)
        if d.get("status") in ("lost", "stolen", "decommissioned"):
            return _("%(serial)s is recorded as %(status)s: it cannot be issued or moved.",
                     serial=serial, status=status)
        if "action" in d:
            verb = _(_VERBS.get(d["action"], d["action"]))
            return _("%(serial)s cannot be %(verb)s while it is %(status)s.", serial=serial,
                     verb=verb, status=status)
        return _("That change is not possible from the weapon's current status.")
    if code == "officer_not_eligible":
        reasons = "; ".join(problem(p, lang) for p in d.get("problems", []))
        return _("Cannot issue to %(badge)s: %(reasons)s.", badge=d.get("badge", ""),
                 reasons=reasons)
    if code == "officer_holds_weapons":
        return lang.ngettext("Officer %(badge)s still holds %(num)s weapon; it must be returned "
                             "first.",
                             "Officer %(badge)s still holds %(num)s weapons; they must be "
                             "returned first.", int(d.get("weapons", 0)), badge=d.get("badge"))
    if code == "separation_of_duties":
        return _("Whoever asked for this cannot approve it; another person must.")
    if code == "lockdown":
        return _("An inspection is open at this agency: its registry and custody movements are frozen "
                 "until it closes. A loss or theft can still be reported.")
    if code == "duplicate_serial":
        if "serial" in d:
            return _("%(make)s %(serial)s is already registered.", make=d.get("make", ""),
                     serial=d["serial"])
        return _("That make and serial are already registered.")
    if code == "insufficient_ammunition":
        return _("There are not enough rounds for that.")
    if code == "authentication_failed" and d.get("pin"):
        reason = d.get("reason")
        if reason == "missing":
            return _("Officer %(badge)s has no desk PIN yet: the officer sets a first PIN "
                     "here at the desk, or a chief sets it on the officer's page.",
                     badge=d.get("badge", ""))
        if reason == "locked":
            return _("Too many wrong PINs: the PIN of %(badge)s is locked for a while. Ask a "
                     "chief.", badge=d.get("badge", ""))
        return _("Wrong PIN. The officer must type their own PIN.")
    if code == "validation_failed" and d.get("limit") in _WORKBOOK_LIMITS:
        return _(_WORKBOOK_LIMITS[d["limit"]], file=d.get("file", ""),
                 value=d.get("limit_value", ""), part=d.get("part", ""))
    if code == "imports_busy":
        if "position" in d:
            return _("You waited in the import queue at position %(position)s, behind "
                     "%(running)s imports being read, for too long. Try again later.",
                     position=d["position"], running=d.get("running", 0))
        return lang.ngettext("The server is reading %(num)s import and %(waiting)s more "
                             "wait: the queue is full. Try again in a minute.",
                             "The server is reading %(num)s imports and %(waiting)s more "
                             "wait: the queue is full. Try again in a minute.",
                             int(d.get("running", 0)), waiting=d.get("waiting", 0))
    if code == "account_locked":
        return _("This account is locked after wrong authenticator codes. Ask an "
                 "administrator to unlock it.")
    if code == "signing_unavailable":
        reason = d.get("reason")
        if reason == "wrong_key":
            return _("Nothing can be recorded: the signing key on this server is not the one "
                     "that signed this registry's log (a database restored without its own "
                     "key). Consulting still works. Tell the administrator.")
        if reason == "signer_unreachable":
            return _("Nothing can be recorded: the signer that signs the log does not answer. "
                     "Consulting still works. Tell the administrator.")
        return _("Nothing can be recorded: this server has no signing key for its log (a "
                 "database restored without its key). Consulting still works. Tell the "
                 "administrator.")
    if code == "too_many_attempts":
        return _("Too many failed sign-ins from this computer. Wait a little and try again.")
    if code == "totp_not_enrolled":
        return _("Your role needs an authenticator app and none is set up for you. Ask an "
                 "administrator to enrol one.")
    if code in ("authentication_failed", "totp_required"):
        text = _(exc.message)
        return sentence(text) if text != exc.message else _("Wrong username or password.")
    return sentence(_(exc.message))


def sentence(text: str) -> str:
    """A refusal as a sentence: capital first letter, full stop at the end."""
    text = text.strip()
    if not text:
        return text
    text = text[:1].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."
