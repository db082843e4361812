"""A small deployment for tests: two states, three agencies, one user per role."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

from resguardo.config import Settings
from resguardo.domain.registry import FirearmInput, OfficerInput
from resguardo.services import custody, registry, setup, users
from resguardo.services.app import Resguardo

PASSWORD = "correct-horse-battery"

USERS = {
    # username: (role, scope)
    "armero1": ("armorer", "MUN1"),
    "jefe1": ("chief", "MUN1"),
    "armero2": ("armorer", "MUN2"),
    "jefe2": ("chief", "MUN2"),
    "armero3": ("armorer", "MUN3"),
    "supervisor": ("supervisor", "SSP"),
    "inspector": ("inspector", "SSP"),
    "inspector_zm": ("inspector", "ZM15"),
    "investigador": ("investigator", "SSP"),
    "investigador2": ("investigator", "SSP2"),
    "auditor": ("auditor", "NACIONAL"),
}


def make_app(url: str, clock, tmp: Path | None = None) -> Resguardo:  # type: ignore[no-untyped-def]
    settings = dataclasses.replace(
        Settings.from_env(), database_url=url,
        signing_key=(tmp or Path("/tmp")) / f"key-{abs(hash(url))}.key",
        credential_key=(tmp or Path("/tmp")) / f"credential-{abs(hash(url))}.key")
    return Resguardo(settings, clock=clock)


def build_world(url: str, clock, tmp: Path | None = None) -> Resguardo:  # type: ignore[no-untyped-def]
    app = make_app(url, clock, tmp)
    setup.initialize(app, "admin", PASSWORD, "NACIONAL", "Autoridad nacional")
    with app.work("admin") as uow:
        registry.add_organization(uow, "ZM15", "15a Zona Militar", "military_zone", "NACIONAL")
        registry.add_organization(uow, "SSP", "Secretaría de Seguridad", "state", "NACIONAL")
        registry.add_organization(uow, "SSP2", "Secretaría de otro estado", "state", "NACIONAL")
        registry.add_organization(uow, "MUN1", "Policía Municipal 1", "agency", "SSP")
        registry.add_organization(uow, "MUN2", "Policía Municipal 2", "agency", "SSP")
        registry.add_organization(uow, "MUN3", "Policía Municipal 3", "agency", "SSP2")
        registry.add_location(uow, "MUN1", "ARM1", "Armería central", "armory")
        registry.add_location(uow, "MUN1", "ARM2", "Armería norte", "armory")
        registry.add_location(uow, "MUN2", "ARM1", "Armería", "armory")
        registry.add_location(uow, "MUN3", "ARM1", "Armería", "armory")
        for name, (role, scope) in USERS.items():
            users.add_user(uow, name, PASSWORD, role, scope)
        # the military zone oversees MUN1 and MUN2 (not MUN3), beside the state's tree
        registry.add_oversight(uow, "ZM15", "MUN1")
        registry.add_oversight(uow, "ZM15", "MUN2")
        uow.commit()
    far = date(2030, 1, 1)
    with app.work("jefe1") as uow:
        for badge, name in (("P1", "Ana Ruiz"), ("P2", "Luis Mora"), ("P3", "Eva Soto")):
            registry.add_officer(uow, "MUN1", OfficerInput(badge, name, credential_expiry=far,
                                                           qualification_expiry=far))
        uow.commit()
    with app.work("jefe2") as uow:
        registry.add_officer(uow, "MUN2", OfficerInput("Q1", "Raúl Díaz", credential_expiry=far,
                                                       qualification_expiry=far))
        uow.commit()
    with app.work("armero1") as uow:
        for serial in ("A1", "A2", "A3", "A4", "A5"):
            registry.register_firearm(uow, "MUN1", "ARM1", FirearmInput(
                serial=f"GLK-{serial}00", make="Glock", calibre="9x19mm", kind="pistol",
                model="17"))
        uow.commit()
    with app.work("armero2") as uow:
        registry.register_firearm(uow, "MUN2", "ARM1", FirearmInput(
            serial="BER-B100", make="Beretta", calibre="9x19mm", kind="pistol", model="92FS"))
        uow.commit()
    with app.work("armero3") as uow:
        registry.register_firearm(uow, "MUN3", "ARM1", FirearmInput(
            serial="SIG-C100", make="SIG Sauer", calibre="9x19mm", kind="pistol", model="P320"))
        uow.commit()
    return app


def do(app: Resguardo, user: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Run one service call as ``user`` in its own transaction and commit."""
    with app.work(user) as uow:
        result = fn(uow, *args, **kwargs)
        uow.commit()
        return result


def shifts(app: Resguardo, clock, serial: str, badge: str, location: str, n: int) -> None:  # type: ignore[no-untyped-def]
    """``n`` shifts of MUN1's weapon ``serial``: an hour later issued to ``badge``, an hour
    after that returned to ``location`` (two custody entries a shift)."""
    for _ in range(n):
        clock.advance(hours=1)
        do(app, "armero1", custody.issue, serial, badge)
        clock.advance(hours=1)
        do(app, "armero1", custody.return_, serial, location)


def look(app: Resguardo, user: str | None, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    with app.read(user) as uow:
        return fn(uow, *args, **kwargs)


def check_log(app: Resguardo) -> None:
    """``ledger rebuild --check`` and ``ledger verify`` are clean: the projection replays
    from the log, and the log verifies (without a verifier key: signatures aside)."""
    from resguardo.services.ledger_verify import verify
    from resguardo.storage.rebuild import compare, replay

    with app.read(None) as uow:
        assert compare(uow.conn, replay(uow.repo.iter_events())) == []
    with app.read("auditor") as uow:
        report = verify(uow, verifier=None, origin=app.settings.log_origin, projection=False)
        assert [f for f in report.findings
                if f.kind not in ("checkpoint_signature", "no_key")] == []
