"""Refusals in words an armorer understands, translated by error code.

Every ``DomainError`` carries a stable ``code`` and details; the sentence shown
is chosen here from the code and details, in the visitor's language. Messages
the domain writes as fixed sentences are listed below so they are extracted
into the catalogue and translated as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from resguardo.domain.errors import DomainError
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
}

_PROBLEMS = [
    (re.compile(r"^officer is suspended$"), N_("the officer is suspended")),
    (re.compile(r"^officer is separated from the agency$"),
     N_("the officer is separated from the agency")),
    (re.compile(r"^officer has no carry credential on record$"),
     N_("there is no carry credential on record")),
    (re.compile(r"^carry credential expired on (?P<date>[\d-]+)$"),
     N_("the carry credential expired on %(date)s")),
    (re.compile(r"^officer has no firearms qualification on record$"),
     N_("there is no firearms qualification on record")),
    (re.compile(r"^qualification expired on (?P<date>[\d-]+)$"),
     N_("the firearms qualification expired on %(date)s")),
]

_FIELD_PATTERNS = [
    (re.compile(r"^(?P<field>[a-z_]+) is required$"), N_("%(field)s is required")),
    (re.compile(r"^(?P<field>[a-z_]+) is longer than (?P<n>\d+) characters$"),
     N_("%(field)s is longer than %(n)s characters")),
    (re.compile(r"^(?P<field>[a-z_]+) contains control characters$"),
     N_("%(field)s contains characters that are not allowed")),
    (re.compile(r"^(?P<field>[a-z_]+) must be a date$"), N_("%(field)s must be a date")),
    (re.compile(r"^(?P<field>[a-z_]+) must be 1-64 letters, digits, dots, hyphens or "
                r"underscores$"),
     N_("%(field)s: use 1 to 64 letters, digits, dots, hyphens or underscores")),
    (re.compile(r"^(?P<field>[a-z_]+) must be a date and time$"),
     N_("%(field)s must be a date and time")),
    (re.compile(r"^(?P<field>[a-z_]+) must be a whole number of rounds$"),
     N_("%(field)s: write a whole number of rounds")),
    (re.compile(r"^(?P<field>[a-z_]+) must be a positive number of rounds$"),
     N_("%(field)s: write a number of rounds above zero")),
    (re.compile(r"^(?P<field>[a-z_]+) is implausibly large$"),
     N_("%(field)s is far larger than any real count; check the number")),
    (re.compile(r"^(?P<field>[a-z_]+) cannot be empty$"), N_("%(field)s cannot be empty")),
    (re.compile(r"^(?P<field>[a-z_]+) must be a date YYYY-MM-DD$"),
     N_("%(field)s must be a date")),
]


#: Sentences the services build around a name or number, matched to translate them.
_DYNAMIC = [
    (re.compile(r"^location (?P<location>\S+) belongs to another agency than (?P<agency>\S+)$"),
     N_("The location %(location)s is not one of %(agency)s: an inspection counts the "
        "locations of the agency it inspects. Untick it, or plan the inspection of its own "
        "agency.")),
    (re.compile(r"^the PIN of (?P<badge>\S+) is not locked$"),
     N_("The PIN of %(badge)s is not locked.")),
    (re.compile(r"^(?P<badge>\S+) already has a PIN: only a chief can replace it$"),
     N_("%(badge)s already has a PIN: only a chief can replace it, on the officer's page.")),
    (re.compile(r"^these officers already have a PIN: (?P<badges>.+); a chief replaces a PIN "
                r"on the officer's page$"),
     N_("These officers already have a PIN: %(badges)s. A chief replaces a PIN on the "
        "officer's page.")),
    (re.compile(r"^organization code (?P<code>\S+) is already in use$"),
     N_("The code %(code)s is already in use by another organization.")),
    (re.compile(r"^location (?P<code>\S+) already exists in (?P<agency>\S+)$"),
     N_("%(agency)s already has a location %(code)s.")),
    (re.compile(r"^licence (?P<number>.+) does not cover (?P<code>\S+)$"),
     N_("Licence %(number)s does not cover %(code)s.")),
    (re.compile(r"^licence (?P<number>.+) expired on (?P<date>\S+)$"),
     N_("Licence %(number)s expired on %(date)s.")),
    (re.compile(r"^firearm (?P<serial>.+) is already on licence (?P<number>.+)$"),
     N_("%(serial)s is already on licence %(number)s.")),
    (re.compile(r"^firearm (?P<serial>.+) is on no licence$"),
     N_("%(serial)s is on no licence.")),
    (re.compile(r"^officer (?P<badge>\S+) is already on licence (?P<number>.+)$"),
     N_("Officer %(badge)s is already on licence %(number)s.")),
    (re.compile(r"^officer (?P<badge>\S+) is on no licence$"),
     N_("Officer %(badge)s is on no licence.")),
    (re.compile(r"^licence (?P<number>.+) already exists$"),
     N_("Licence %(number)s already exists.")),
    (re.compile(r"^badge (?P<badge>\S+) is already registered in (?P<agency>\S+)$"),
     N_("Badge %(badge)s is already registered in %(agency)s.")),
    (re.compile(r"^user (?P<user>\S+) already exists$"), N_("User %(user)s already exists.")),
    (re.compile(r"^request (?P<n>\d+) is already (?P<status>approved|rejected)$"),
     N_("Request %(n)s was already decided.")),
    (re.compile(r"^user (?P<user>\S+) is already disabled$"),
     N_("The account %(user)s is already disabled.")),
    (re.compile(r"^user (?P<user>\S+) is already enabled$"),
     N_("The account %(user)s is already enabled.")),
    (re.compile(r"^(?P<user>\S+) is a person: tokens are only for service accounts"),
     N_("%(user)s is a person: tokens are only for service accounts (a person signs in).")),
    (re.compile(r"^a (?P<role>[a-z]+) must be scoped to one agency$"),
     N_("This role works within one agency: choose an agency as its scope.")),
    (re.compile(r"^the password needs at least (?P<n>\d+) characters$"),
     N_("The password needs at least %(n)s characters.")),
    (re.compile(r"^inspection (?P<n>\d+) is already open at this agency$"),
     N_("Another inspection is already open at this agency.")),
    (re.compile(r"^officer (?P<badge>\S+) is (?P<status>[a-z]+), not active$"),
     N_("Officer %(badge)s is not active.")),
    (re.compile(r"^officer (?P<badge>\S+) is (?P<status>[a-z]+), not suspended$"),
     N_("Officer %(badge)s is not suspended.")),
    (re.compile(r"^officer (?P<badge>\S+) is already separated$"),
     N_("Officer %(badge)s is already separated.")),
    (re.compile(r"^(?P<code>\S+) is not an agency that holds weapons$"),
     N_("%(code)s is not an agency that holds weapons.")),
    (re.compile(r"^(?P<code>\S+) is not an agency; locations belong to agencies$"),
     N_("%(code)s is not an agency: locations belong to agencies.")),
    (re.compile(r"^(?P<code>\S+) is not an agency(; imports are per agency)?$"),
     N_("%(code)s is not an agency.")),
    (re.compile(r"^(?P<code>\S+) is not below the holder (?P<holder>\S+)$"),
     N_("%(code)s is not below the licence holder %(holder)s.")),
    (re.compile(r"^a (?P<what>transfer|decommission|correction) of (?P<serial>.+) is already "
                r"awaiting "
                r"approval$"),
     N_("A request for %(serial)s is already awaiting approval.")),
    (re.compile(r"^firearm (?P<serial>.+) is already at (?P<location>\S+)$"),
     N_("%(serial)s is already at %(location)s.")),
    (re.compile(r"^the military authority was already notified at (?P<when>.+)$"),
     N_("The military authority's notification is already recorded.")),
    (re.compile(r"^firearm (?P<serial>.+) is issued to another officer$"),
     N_("%(serial)s is issued to another officer.")),
    (re.compile(r"^firearm (?P<serial>.+) \((?P<make>.+)\) cannot be assigned as a weapon of "
                r"record while (?P<status>.+)$"),
     N_("%(serial)s cannot be a weapon of record: it is lost, stolen, held as evidence, "
        "decommissioned or in transit.")),
    (re.compile(r"^firearm (?P<serial>.+) is issued to another officer; it must come back "
                r"first$"),
     N_("%(serial)s is issued to another officer: it must come back first.")),
    (re.compile(r"^firearm (?P<serial>.+) is already (?P<who>.+)'s weapon of record$"),
     N_("%(serial)s is already this officer's weapon of record.")),
    (re.compile(r"^firearm (?P<serial>.+) is the weapon of record of (?P<who>.+); withdraw it "
                r"first$"),
     N_("%(serial)s is the weapon of record of %(who)s: withdraw it first.")),
    (re.compile(r"^firearm (?P<serial>.+) is the weapon of record of (?P<who>.+); it is issued "
                r"only to that officer$"),
     N_("%(serial)s is the weapon of record of %(who)s: it is issued only to that officer.")),
    (re.compile(r"^officer (?P<badge>\S+) is (?P<status>[a-z]+); only an active officer is "
                r"assigned a weapon of record$"),
     N_("Officer %(badge)s is not active: only an active officer is assigned a weapon of "
        "record.")),
    (re.compile(r"^officer (?P<badge>\S+) has no credential folio and expiry on record"),
     N_("Officer %(badge)s has no credential folio and expiry on record: the weapon of record "
        "is printed on the credential.")),
    (re.compile(r"^the credential of officer (?P<badge>\S+) expired on (?P<date>[\d-]+); "
                r"renew it first$"),
     N_("The credential of officer %(badge)s expired on %(date)s: renew it first.")),
    (re.compile(r"^firearm (?P<serial>.+) is not a weapon of record of (?P<who>.+)$"),
     N_("%(serial)s is not a weapon of record of %(who)s.")),
    (re.compile(r"^officer (?P<badge>\S+) still has (?P<n>\d+) weapon\(s\) of record; a chief "
                r"withdraws them before the separation$"),
     N_("Officer %(badge)s still has weapons of record: a chief withdraws them before the "
        "separation.")),
    (re.compile(r"^unknown calibre '(?P<value>.*)'; closest: (?P<closest>.+)$"),
     N_("The calibre %(value)s is not in the list; the closest: %(closest)s.")),
    (re.compile(r"^unknown calibre '(?P<value>.*)'; see `resguardo calibres` for the list$"),
     N_("The calibre %(value)s is not in the list of calibres.")),
    (re.compile(r"^alert (?P<key>.+) is already acknowledged$"),
     N_("This alert is already acknowledged.")),
    (re.compile(r"^inspection (?P<n>\d+) is (?P<state>[a-z]+); only a planned inspection can "
                r"be opened$"), N_("Only a planned inspection can be opened.")),
    (re.compile(r"^inspection (?P<n>\d+) is (?P<state>[a-z]+); scans are recorded only while "
                r"it is open$"), N_("Scans are recorded only while the inspection is open.")),
    (re.compile(r"^inspection (?P<n>\d+) is not open$"), N_("The inspection is not open.")),
    (re.compile(r"^inspection (?P<n>\d+) is (?P<state>[a-z]+); only an open inspection can be "
                r"closed"), N_("Only an open inspection can be closed.")),
    (re.compile(r"^location (?P<location>\S+) is outside this inspection's scope"),
     N_("Location %(location)s is outside this inspection's scope.")),
    (re.compile(r"^finding (?P<n>\d+) is already answered$"),
     N_("This finding is already answered.")),
    (re.compile(r"^a (?P<kind>[a-z_]+) finding needs no answer$"),
     N_("This kind of finding needs no answer.")),
    (re.compile(r"^officer (?P<badge>\S+) is separated: no override possible$"),
     N_("Officer %(badge)s is separated: no override is possible.")),
    (re.compile(r"^refusing to sign a checkpoint: (?P<reason>.+); run `resguardo ledger verify`$"),
     N_("No checkpoint was signed: the log does not verify. Verify the ledger to see what "
        "disagrees.")),
    (re.compile(r"^consumed rounds need a justification"),
     N_("Rounds not returned need a justification: training, duty discharge or damaged.")),
    (re.compile(r"^(?P<field>[a-z_]+) must be between (?P<a>[\d.]+) and (?P<b>[\d.]+)$"),
     N_("%(field)s must be between %(a)s and %(b)s.")),
    (re.compile(r"^person (?P<n>\d+) present \(.*\) must be written 'name \| post \| "
                r"identification'"),
     N_("Person %(n)s present: write name | post | identification, one person per line.")),
    (re.compile(r"^person (?P<n>\d+) present has no (?P<part>[a-z]+); "),
     N_("Person %(n)s present lacks a part: write name | post | identification.")),
    (re.compile(r"^the (?P<part>[a-z]+) of person (?P<n>\d+) present is longer than "
                r"(?P<limit>\d+) characters$"),
     N_("Person %(n)s present: each part takes at most %(limit)s characters.")),
    (re.compile(r"^at most (?P<most>\d+) people present can sign the acta; "),
     N_("At most %(most)s people present can sign the acta.")),
    (re.compile(r"^time zone (?P<zone>.+) is not an IANA zone"),
     N_("%(zone)s is not a time zone: write one such as America/Mexico_City or "
        "America/Hermosillo.")),
    (re.compile(r"^(?P<file>.+): no rows to import$"),
     N_("The file %(file)s has no rows to import: it holds a header and nothing below it.")),
]

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


#: Shortfalls of rounds, with the counts the armorer needs to see.
_ROUNDS = [
    (re.compile(r"^only (?P<n>\d+) rounds of (?P<calibre>.+) lot (?P<lot>.+) at "
                r"(?P<location>\S+); cannot (issue|consume) (?P<q>\d+)$"),
     N_("Only %(n)s rounds of %(calibre)s lot %(lot)s at %(location)s.")),
    (re.compile(r"^officer (?P<badge>\S+) holds (?P<n>\d+) rounds of (?P<calibre>.+) lot "
                r"(?P<lot>.+); cannot account for (?P<q>\d+)$"),
     N_("Officer %(badge)s holds only %(n)s rounds of %(calibre)s lot %(lot)s.")),
]


Patterns = Sequence[tuple[re.Pattern[str], str]]
"""English sentences by shape (named parts), each with the message that says it translated."""


def translated(patterns: Patterns, text: str, lang: Lang,
               convert: Callable[[str, Any], Any] = lambda _name, value: value) -> str | None:
    """The message of the first pattern ``text`` matches, in the visitor's language, its
    named parts passed through ``convert(name, value)``; None when none matches."""
    for pattern, message in patterns:
        m = pattern.match(text)
        if m:
            return lang.gettext(message, **{k: convert(k, v) for k, v in m.groupdict().items()})
    return None


def problem(text: str, lang: Lang) -> str:
    """One reason an officer may not receive a weapon, in the visitor's language."""
    known = translated(_PROBLEMS, text, lang, lambda _name, value: lang.date(value))
    return lang.gettext(text) if known is None else known


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
    if code in ("invalid_transition", "officer_not_eligible") and not d:
        # raised with a sentence and no details: translate the sentence by its shape
        known = _(exc.message)
        if known != exc.message:
            return sentence(known)
        dynamic = _dynamic(exc.message, lang)
        if dynamic is not None:
            return dynamic
    if code == "invalid_transition":
        serial = d.get("serial", "")
        status = _(labels.label(labels.STATUS, d.get("status"))).lower()
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
        for pattern, message in _ROUNDS:
            m = pattern.match(exc.message)
            if m:
                values = {k: v for k, v in m.groupdict().items()}
                for k in ("n", "q"):
                    if values.get(k):
                        values[k] = lang.number(int(values[k]))
                return _(message, **values)
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
    text = _(exc.message)
    if text == exc.message:
        dynamic = _dynamic(exc.message, lang)
        if dynamic is not None:
            return dynamic
        shaped = translated(_FIELD_PATTERNS, exc.message, lang, _field_label(lang))
        if shaped is not None:
            return sentence(shaped)
    return sentence(text)


def _field_label(lang: Lang) -> Callable[[str, Any], Any]:
    """A ``translated`` conversion: the part named ``field`` said as its label."""
    def convert(name: str, value: Any) -> Any:
        if name == "field" and value:
            return lang.gettext(labels.label(labels.FIELD, value))
        return value
    return convert


def _dynamic(message: str, lang: Lang) -> str | None:
    """A sentence built around a name or number, translated; None when none matches."""
    text = translated(_DYNAMIC, message, lang, _field_label(lang))
    return None if text is None else sentence(text)


def sentence(text: str) -> str:
    """A refusal as a sentence: capital first letter, full stop at the end."""
    text = text.strip()
    if not text:
        return text
    text = text[:1].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."
