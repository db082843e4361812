"""Custody on a date, replayed from the log, agrees with what the projection said at that moment."""

from __future__ import annotations

import random
from datetime import date

from resguardo.domain.errors import DomainError
from resguardo.domain.timefmt import iso
from resguardo.services import credential, custody, registry
from resguardo.services import trace as service

from world import do

SERIALS = ("GLK-A100", "GLK-A200", "GLK-A300")


def _operations(serial: str) -> list:  # type: ignore[type-arg]
    lost = {"occurred_on": date(2025, 3, 3), "place": "Col. Centro", "on_duty": True,
            "complaint_number": "FGE/1/2025", "complaint_authority": "FGE Jalisco"}
    return [
        lambda uow: custody.issue(uow, serial, "P1"),
        lambda uow: custody.issue(uow, serial, "P2"),
        lambda uow: custody.issue(uow, serial, "P3"),
        lambda uow: custody.return_(uow, serial, "ARM1"),
        lambda uow: custody.return_(uow, serial, "ARM2"),
        lambda uow: custody.move(uow, serial, "ARM2"),
        lambda uow: custody.move(uow, serial, "ARM1"),
        lambda uow: custody.send_to_repair(uow, serial, "Taller Norte"),
        lambda uow: custody.return_from_repair(uow, serial, "ARM2"),
        lambda uow: custody.report_missing(uow, serial, stolen=False, **lost),
        lambda uow: custody.report_missing(uow, serial, stolen=True, **lost),
        lambda uow: custody.recover(uow, serial, "FGE Jalisco", "Recuperada en cateo"),
        ("jefe1", lambda uow: custody.release(uow, serial, "ARM1", "Oficio FGE/LIB/1/2025")),
        ("jefe1", lambda uow: credential.assign(uow, "P1", serial)),
        ("jefe1", lambda uow: credential.assign(uow, "P2", serial)),
        ("jefe1", lambda uow: credential.unassign(uow, "P1", serial, "Cambio de adscripción")),
        ("jefe1", lambda uow: credential.unassign(uow, "P2", serial, "Cambio de adscripción")),
    ]


def _projection(app) -> dict[str, tuple]:  # type: ignore[no-untyped-def,type-arg]
    with app.read(None) as uow:
        out = {}
        for serial in SERIALS:
            f = uow.repo.firearm(serial)
            officer = uow.repo.officers_by_id([f.custodian_id]).get(f.custodian_id or -1)
            location = uow.repo.location_codes([f.location_id]).get(f.location_id or -1)
            record = uow.repo.officers_by_id([f.record_officer_id]).get(
                f.record_officer_id or -1)
            out[serial] = (f.status.value, location, officer.badge if officer else None,
                           record.badge if record else None)
        return out


def test_custody_replayed_at_every_moment_matches_the_projection_then(world, clock):
    rng = random.Random(20250303)
    for badge in ("P1", "P2"):  # a credential folio: they may be given weapons of record
        do(world, "jefe1", registry.renew_officer, "MUN1", badge, credential_folio=f"C-{badge}")
    seen: list[tuple[str, dict[str, tuple]]] = []  # type: ignore[type-arg]
    done = 0
    while done < 40:
        clock.advance(minutes=rng.randint(1, 600))
        serial = rng.choice(SERIALS)
        try:
            op = rng.choice(_operations(serial))
            user, op = op if isinstance(op, tuple) else ("armero1", op)
            do(world, user, op)
        except DomainError:
            continue  # a refused move (the state machine) changes nothing
        done += 1
        seen.append((iso(clock.now), _projection(world)))
    clock.advance(days=1)
    assert any(state[3] for _, states in seen for state in states.values())  # some of record
    for instant, states in seen[::3] + seen[-1:]:
        for serial, expected in states.items():
            answer = do(world, "investigador", service.trace,
                        service.TraceInput(serial, date=instant, limit=1))
            c = answer["candidates"][0]
            holder = c["custodian_on_date"]
            record = c["officer_of_record_on_date"]
            assert (c["status_on_date"], c["location_on_date"],
                    holder["badge"] if holder else None,
                    record["badge"] if record else None) == expected, (instant, serial)
