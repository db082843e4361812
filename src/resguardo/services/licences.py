"""The collective licence at work: the periodic report (LFAFE art. 29) and the alerts for
what the licence does not cover (Reglamento LFAFE art. 11: a weapon declared within 30
days of its acquisition; an officer carries with a current credential folio)."""

from __future__ import annotations

from datetime import datetime, time

from resguardo.domain.alerts import Alert, AlertKind
from resguardo.domain.errors import NotFound
from resguardo.domain.licences import DECLARATION_DAYS, declaration_due
from resguardo.domain.policy import Action, authorize
from resguardo.domain.timefmt import parse_date, parse_instant
from resguardo.reports.licence import LicenceReport
from resguardo.storage import export_queries as q
from resguardo.storage.uow import UnitOfWork


def _undeclared(uow: UnitOfWork, now: datetime) -> list[dict]:
    """Weapons on no licence whose 30 days have run out, oldest first: each on its agency's
    calendar (a weapon registered, with no acquisition date, at 18:07 on 6 December in
    Guadalajara was acquired on the 6th; its 30 days are over when 5 January is over
    there)."""
    out = []
    rows = q.undeclared_weapons(uow.repo)
    uow.zones_of(r["agency_id"] for r in rows)
    for r in rows:
        agency = r["agency_id"]
        acquired = (parse_date(r["acquired_on"])
                    or uow.today(agency, parse_instant(r["registered_at"])))
        due = declaration_due(acquired)
        if due < uow.today(agency, now):
            out.append({**r, "acquired": acquired, "due": due})
    return sorted(out, key=lambda r: (r["due"], r["agency"], r["serial"]))


def licence_report(uow: UnitOfWork, number: str) -> LicenceReport:
    """The licence as it stands today: weapons by agency and place, officers with their
    credential folios, and the weapons its agencies hold undeclared (what the caller's
    scope shows)."""
    if uow.actor is not None:
        authorize(uow.actor, Action.READ)
    info = q.licence(uow.repo, number)
    now = uow.now()
    zone = uow.zone_of(info["holder_id"])
    today = uow.today(info["holder_id"], now)  # the holder's day, printed on the paper
    weapons = q.licence_weapons(uow.repo, info["id"])
    officers = q.licence_officers(uow.repo, info["id"])
    for row in (*officers, *weapons):
        row["credential_expiry"] = parse_date(row["credential_expiry"])
    agencies = [a for a in info["agencies"] if _in_scope(uow, a)]
    undeclared = [u for u in _undeclared(uow, now) if u["agency"] in agencies]
    return LicenceReport(number=info["number"], holder=info["holder"],
                         holder_name=info["holder_name"], agencies=agencies,
                         valid_from=info["valid_from"], valid_to=info["valid_to"], as_of=today,
                         weapons=weapons, officers=officers, undeclared=undeclared,
                         issued_at=now, time_zone=zone)


def _in_scope(uow: UnitOfWork, code: str) -> bool:
    try:
        uow.repo.org(code)
    except NotFound:
        return False
    return True


def licence_alerts(uow: UnitOfWork) -> list[Alert]:
    """A weapon acquired more than 30 days ago and on no licence; a weapon issued to an
    officer with no credential folio recorded (an expired credential has its own alert)."""
    now = uow.now()
    out = []
    for r in _undeclared(uow, now):
        out.append(Alert(
            key=f"undeclared_weapon:{r['id']}", kind=AlertKind.UNDECLARED_WEAPON,
            agency_id=r["agency_id"], agency=r["agency"], subject=f"{r['make']} {r['serial']}",
            message=f"acquired on {r['acquired'].isoformat()} and on no collective licence: "
                    f"the {DECLARATION_DAYS} days to declare it ran out on "
                    f"{r['due'].isoformat()}",
            since=datetime.combine(r["due"], time.min, tzinfo=now.tzinfo)))
    for r in q.carrying_without_folio(uow.repo):
        out.append(Alert(
            key=f"no_credential_folio:{r['firearm_id']}:{r['badge']}",
            kind=AlertKind.NO_CREDENTIAL_FOLIO, agency_id=r["agency_id"], agency=r["agency"],
            subject=f"{r['make']} {r['serial']} / {r['badge']} {r['name']}",
            message="weapon issued to an officer with no credential folio recorded",
            since=parse_instant(r["status_since"])))
    return out
