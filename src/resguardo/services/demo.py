"""A realistic demonstration deployment: a state secretariat, a military zone,
four municipal agencies of different sizes, about 2,000 firearms of real makes
and serial formats, 900 officers, a year of daily issue and return, a few losses
(one not yet notified), one suspended officer still holding a weapon and one
correction of a serial awaiting the chief's approval."""

from __future__ import annotations

import heapq
import random
import secrets
import string
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from resguardo.domain.errors import DomainError
from resguardo.domain.registry import FirearmInput, OfficerInput
from resguardo.services import (
    accounts,
    ammunition,
    credential,
    custody,
    ledger,
    registry,
    setup,
    users,
)
from resguardo.storage.uow import UnitOfWork

# (make, model, calibre, kind, serial pattern, share) - patterns: A letter, 9 digit, literal else
CATALOGUE = [
    ("Glock", "17", "9x19mm", "pistol", "AAAA999", 26),
    ("Glock", "19", "9x19mm", "pistol", "AAA999", 10),
    ("Beretta", "92FS", "9x19mm", "pistol", "BER999999Z", 10),
    ("Beretta", "PX4 Storm", "9x19mm", "pistol", "PX99999", 5),
    ("SIG Sauer", "P320", "9x19mm", "pistol", "58A999999", 8),
    ("Smith & Wesson", "M&P9", "9x19mm", "pistol", "AAA9999", 6),
    ("Taurus", "PT92", "9x19mm", "pistol", "TAA99999", 6),
    ("Colt", "M4 Commando", "5.56x45mm", "carbine", "LE999999", 8),
    ("Colt", "AR-15 A2", "5.56x45mm", "rifle", "GC999999", 4),
    ("Heckler & Koch", "MP5", "9x19mm", "submachine_gun", "99-999999", 4),
    ("Heckler & Koch", "G36", "5.56x45mm", "rifle", "99-99999", 3),
    ("FN Herstal", "FNX-9", "9x19mm", "pistol", "FX999999", 4),
    ("Remington", "870", "12 GA", "shotgun", "RS99999A", 4),
    ("CZ", "P-07", "9x19mm", "pistol", "C999999", 2),
]

AGENCIES = [  # code, name, firearms, officers
    ("MUN-GDL", "Comisaría de la Policía de Guadalajara", 1000, 450),
    ("MUN-ZAP", "Comisaría de Seguridad Pública de Zapopan", 520, 250),
    ("MUN-TLQ", "Comisaría de San Pedro Tlaquepaque", 300, 130),
    ("MUN-TON", "Comisaría de Tonalá", 180, 70),
]

FIRST = ["José", "María", "Juan", "Guadalupe", "Luis", "Ana", "Carlos", "Rosa", "Jorge", "Laura",
         "Miguel", "Patricia", "Francisco", "Alejandra", "Jesús", "Adriana", "Pedro", "Verónica",
         "Ricardo", "Claudia", "Fernando", "Mónica", "Raúl", "Gabriela", "Arturo", "Leticia",
         "Sergio", "Sofía", "Eduardo", "Daniela", "Roberto", "Araceli", "Manuel", "Norma"]
LAST = ["Hernández", "García", "Martínez", "López", "González", "Pérez", "Rodríguez", "Sánchez",
        "Ramírez", "Cruz", "Flores", "Gómez", "Morales", "Vázquez", "Reyes", "Jiménez", "Torres",
        "Díaz", "Gutiérrez", "Ruiz", "Mendoza", "Aguilar", "Ortiz", "Moreno", "Castillo",
        "Romero", "Álvarez", "Méndez", "Chávez", "Rivera", "Juárez", "Ramos", "Domínguez"]

ROLES = [  # username, role, scope, name
    ("admin", "admin", "NACIONAL", "Administración del sistema"),
    ("armero", "armorer", "MUN-GDL", "Armero de Guadalajara"),
    ("jefe", "chief", "MUN-GDL", "Comisario de Guadalajara"),
    ("supervisor", "supervisor", "SSP-JAL", "Supervisión estatal"),
    ("inspector", "inspector", "ZM-15", "Inspector de la 15a Zona Militar"),
    ("investigador", "investigator", "SSP-JAL", "Fiscalía: unidad de rastreo"),
    ("auditor", "auditor", "NACIONAL", "Auditoría externa"),
    ("inspector_son", "inspector", "ZM-4", "Inspector de la 4a Zona Militar"),
]

#: The full name and post (cargo) documents print for each demo account.
PROFILES = {
    "armero": ("Juan Carlos Pérez López", "Armero de la Comisaría de Guadalajara"),
    "jefe": ("Cmdte. Ricardo Gómez Ortiz", "Comisario de la Policía de Guadalajara"),
    "supervisor": ("Lic. Adriana Flores Méndez", "Supervisora estatal de armamento, SSP Jalisco"),
    "inspector": ("Cap. 1/o. Jorge Ramírez Castillo", "Inspector de armamento, 15/a. Zona Militar"),
    "investigador": ("Mtra. Claudia Reyes Aguilar",
                     "Agente del Ministerio Público, unidad de rastreo, FGE Jalisco"),
    "auditor": ("C.P. Sergio Jiménez Rivera", "Auditor externo"),
    "inspector_son": ("Cap. 2/o. Luis Moreno Chávez", "Inspector de armamento, 4/a. Zona Militar"),
}

#: Where each organization is: time zone, city and the address of its armory. Sonora keeps
#: UTC-7 all year (no daylight saving time, as Arizona), one hour behind Mexico City in winter.
PLACES = {
    "NACIONAL": ("America/Mexico_City", "Ciudad de México", None),
    "SSP-JAL": ("America/Mexico_City", "Guadalajara, Jalisco", None),
    "MUN-GDL": (None, "Guadalajara, Jalisco", "Av. 5 de Febrero 1351, Col. Las Conchas"),
    "MUN-ZAP": (None, "Zapopan, Jalisco", "Av. Hidalgo 151, Zapopan Centro"),
    "MUN-TLQ": (None, "San Pedro Tlaquepaque, Jalisco", "Calle Florida 188, Centro"),
    "MUN-TON": (None, "Tonalá, Jalisco", "Av. Tonalá 49, Centro"),
    "SSP-SON": ("America/Hermosillo", "Hermosillo, Sonora", None),
    "ZM-4": ("America/Hermosillo", "Hermosillo, Sonora", None),
    "MUN-HMO": (None, "Hermosillo, Sonora", "Blvd. Luis Encinas y Calle Reforma s/n, "
                                             "Col. Centro Norte"),
}
#: The Sonora agency with a closed revista in the demo: code, name, firearms, officers.
SONORA = ("MUN-HMO", "Policía Municipal de Hermosillo", 140, 40)
#: Those present at the demo's revista: name | post | identification.
SONORA_PRESENT = [
    "Cap. 2/o. Luis Moreno Chávez | Inspector de armamento, 4/a. Zona Militar | "
    "Credencial SEDENA A-4471203",
    "Lic. Verónica Ruiz Domínguez | Directora jurídica, Policía Municipal de Hermosillo | "
    "INE IDMEX2231847765",
    "Sgto. Manuel Torres Juárez | Armero, Policía Municipal de Hermosillo | "
    "Gafete municipal HMO-0007",
]


@dataclass
class DemoClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


#: A story of the demo told step by step: it yields the instant of its next step and runs that
#: step when resumed (with the demo clock set to that instant).
Story = Generator[datetime, None, None]


def _day(uow: UnitOfWork, code: str) -> date:
    """The agency's own day now (a loss happened "today" where the agency is)."""
    return uow.today(uow.repo.org(code).id)


class _Stories:
    """Stories (the incidents, the Sonora revista) told at their own instants between the
    year's shifts, so the demo writes its log in time order: a trace for a past date finds
    the entries a moment includes by bisection on the position, which assumes an entry's
    instant never goes before the previous entry's (``UnitOfWork.entry_instant``)."""

    def __init__(self, clock: DemoClock, stories: Iterable[Story]) -> None:
        self.clock = clock
        self.due: list[tuple[datetime, int, Story]] = []
        for n, story in enumerate(stories):
            self._next(n, story)

    def _next(self, n: int, story: Story) -> None:
        """Run ``story`` up to the instant of its next step."""
        instant = next(story, None)
        if instant is not None:
            heapq.heappush(self.due, (instant, n, story))

    def until(self, moment: datetime | None) -> datetime:
        """Run every step due at ``moment`` or before (all of them: None); return the instant
        the next entry may take (``moment``, or later when a step ran past it)."""
        while self.due and (moment is None or self.due[0][0] <= moment):
            instant, n, story = heapq.heappop(self.due)
            self.clock.now = max(instant, self.clock.now)  # a step never goes back in time
            self._next(n, story)
        return self.clock.now if moment is None else max(moment, self.clock.now)


@dataclass
class DemoResult:
    logins: list[tuple[str, str, str, str]] = field(default_factory=list)
    firearms: int = 0
    officers: int = 0
    events: int = 0
    days: int = 0
    notes: list[str] = field(default_factory=list)


def _serial(rng: random.Random, pattern: str) -> str:
    out = []
    for ch in pattern:
        if ch == "A":
            out.append(rng.choice(string.ascii_uppercase.replace("O", "").replace("I", "")))
        elif ch == "9":
            out.append(rng.choice(string.digits))
        else:
            out.append(ch)
    return "".join(out)


def build(app, *, days: int = 365, shift_share: float = 0.04, seed: int = 7,  # type: ignore[no-untyped-def]
          password: str | None = None,
          progress: Callable[[str, int, int], None] | None = None) -> DemoResult:
    """Fill an empty deployment with demonstration data (uses ``app.clock`` as the demo clock)."""
    rng = random.Random(seed)
    result = DemoResult(days=days)
    today = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=days)
    clock = DemoClock(start - timedelta(days=30))
    app.clock = clock
    note = progress or (lambda stage, done, total: None)

    pw = {name: password or secrets.token_urlsafe(9) for name, *_ in ROLES}
    setup.initialize(app, "admin", pw["admin"], "NACIONAL", "Sistema Nacional de Seguridad Pública")
    with app.work(None) as uow:
        registry.add_organization(uow, "ZM-15", "15a Zona Militar (Jalisco)", "military_zone",
                                  "NACIONAL")
        registry.add_organization(uow, "SSP-JAL", "Secretaría de Seguridad del Estado de Jalisco",
                                  "state", "NACIONAL")
        for code, name, *_ in AGENCIES:
            registry.add_organization(uow, code, name, "agency", "SSP-JAL")
            registry.add_location(uow, code, "ARM-1", "Armería central", "armory")
            registry.add_location(uow, code, "BOV-1", "Bóveda de resguardo", "vault")
        for code, *_ in AGENCIES:  # the zone oversees the agencies carrying under its LOC
            registry.add_oversight(uow, "ZM-15", code)
        registry.add_licence(uow, "LOC-JAL-0042", "SSP-JAL", [a[0] for a in AGENCIES],
                             date(start.year - 1, 1, 1), date(today.year + 1, 12, 31))
        _sonora_organizations(uow, start, today)
        for code, (zone, city, address) in PLACES.items():
            registry.set_place(uow, code, time_zone=zone, city=city, address=address)
        for name, role, scope, display in ROLES[1:]:
            users.add_user(uow, name, pw[name], role, scope, display)
        for name, (full, post) in PROFILES.items():
            accounts.set_profile(uow, name, name=full, post=post)
        uow.commit()
    result.logins = [(name, pw[name], role, scope) for name, role, scope, _ in ROLES]

    weights = [c[5] for c in CATALOGUE]
    seen: set[tuple[str, str]] = set()
    officers: dict[str, list[str]] = {}
    armory: dict[str, list[str]] = {}
    total_arms = sum(a[2] for a in AGENCIES)
    done = 0
    for code, _name, n_arms, n_officers in AGENCIES:
        with app.work(None) as uow:
            badges = []
            for i in range(n_officers):
                badge = f"{code[4:]}-{i + 1:04d}"
                credential = (today + timedelta(days=rng.randint(60, 900))).date()
                qualification = (today + timedelta(days=rng.randint(30, 500))).date()
                registry.add_officer(uow, code, OfficerInput(
                    badge=badge,
                    name=f"{rng.choice(FIRST)} {rng.choice(LAST)} {rng.choice(LAST)}",
                    cuip="".join(rng.choice(string.ascii_uppercase + string.digits)
                                 for _ in range(18)),
                    credential_folio=f"CP-{rng.randint(100000, 999999)}",
                    credential_expiry=credential, qualification_expiry=qualification),
                    "LOC-JAL-0042")
                badges.append(badge)
            officers[code] = badges
            serials = []
            for _ in range(n_arms):
                make, model, calibre, kind, pattern, _w = rng.choices(CATALOGUE, weights)[0]
                serial = _serial(rng, pattern)
                while (make, serial) in seen:
                    serial = _serial(rng, pattern)
                seen.add((make, serial))
                acquired = (start - timedelta(days=rng.randint(30, 3000))).date()
                registry.register_firearm(uow, code, rng.choice(["ARM-1", "ARM-1", "BOV-1"]),
                                          FirearmInput(
                    serial=serial, make=make, model=model, calibre=calibre, kind=kind,
                    folio=f"RFA-{rng.randint(1000000, 9999999)}", acquired_on=acquired,
                    supplier="DCAM SEDENA", purchase_ref=f"OC-{acquired.year}-{rng.randint(1, 999):03d}"),
                    "LOC-JAL-0042")
                serials.append(serial)
                done += 1
                if done % 100 == 0:
                    note("Registering firearms", done, total_arms)
            ammunition.receive(uow, code, "ARM-1", "9x19mm", "L-2291", 20000, "DCAM SEDENA")
            ammunition.receive(uow, code, "ARM-1", "5.56x45mm", "L-1187", 8000, "DCAM SEDENA")
            uow.commit()
        armory[code] = serials
    result.firearms, result.officers = len(seen), sum(len(b) for b in officers.values())

    # a year of shifts: day shift out at 07:00, back at 19:00; the incidents and the Sonora
    # revista happen between them, at their own instants. The weapons and officers the
    # incidents use never go out on a shift (a step would find them out, or a suspended
    # officer in the pool).
    spared = {"MUN-GDL": {*_INCIDENT_WEAPONS}, "MUN-ZAP": {3}}
    pools = {code: [s for n, s in enumerate(armory[code]) if n not in spared.get(code, ())]
             for code in armory}
    crews = {code: [b for n, b in enumerate(officers[code])
                    if code != "MUN-GDL" or n not in _INCIDENT_OFFICERS]
             for code in officers}
    stories = _Stories(clock, [_incidents(app, clock, rng, today, armory, officers, result),
                               _sonora_revista(app, clock, rng, today, seen, result)])
    for day in range(days):
        base = start + timedelta(days=day)
        # every agency's shift goes out (07:xx) before any comes back (19:xx), in time order
        shifts: list[tuple[datetime, str, list[str], list[tuple[str, str]]]] = []
        for code, *_ in AGENCIES:
            count = max(2, int(len(officers[code]) * shift_share))
            shifts.append((base + timedelta(hours=1, minutes=rng.randint(0, 50)), code,
                           rng.sample(crews[code], count), []))
        for out, code, on_duty, issued in sorted(shifts, key=lambda shift: shift[0]):
            clock.now = stories.until(out)
            with app.work(None) as uow:
                pool = rng.sample(pools[code], len(on_duty) * 2)
                for badge in on_duty:
                    while pool:
                        serial = pool.pop()
                        try:
                            custody.issue(uow, serial, badge)
                            issued.append((serial, badge))
                            break
                        except DomainError:
                            continue
                uow.commit()
        backs = [(base + timedelta(hours=13, minutes=rng.randint(0, 50)), code, issued)
                 for _out, code, _on_duty, issued in shifts]
        for back, code, issued in sorted(backs, key=lambda shift: shift[0]):
            clock.now = stories.until(back)
            with app.work(None) as uow:
                for serial, _badge in issued:
                    custody.return_(uow, serial, "ARM-1")
                if day % 30 == 0:
                    ammunition.consume(uow, code, "ARM-1", "9x19mm", "L-2291", 600, "training")
                uow.commit()
        note("A year of shifts", day + 1, days)

    stories.until(None)  # the steps after the last shift (the last night's)
    clock.now = datetime.now(UTC)  # the demo ends today
    key = ledger.attach(app)
    if key.exists():  # the last entries signed too: `ledger verify` passes on a fresh demo
        with app.work(None) as uow:
            ledger.checkpoint(uow, key)
            uow.commit()
    with app.read(None) as uow:
        result.events = uow.repo.log_size()
    return result


def _sonora_organizations(uow, start: datetime, today: datetime) -> None:  # type: ignore[no-untyped-def]
    """Sonora: its state secretariat and military zone keep Sonora's hour; one municipal
    agency under its own LOC, overseen by the 4th military zone."""
    code, name, *_ = SONORA
    registry.add_organization(uow, "ZM-4", "4a Zona Militar (Sonora)", "military_zone",
                              "NACIONAL")
    registry.add_organization(uow, "SSP-SON", "Secretaría de Seguridad Pública del Estado de "
                              "Sonora", "state", "NACIONAL")
    registry.add_organization(uow, code, name, "agency", "SSP-SON")
    registry.add_location(uow, code, "ARM-1", "Armería central", "armory")
    registry.add_oversight(uow, "ZM-4", code)
    registry.add_licence(uow, "LOC-SON-0017", "SSP-SON", [code],
                         date(start.year - 1, 1, 1), date(today.year + 1, 12, 31))


def _sonora_revista(app, clock, rng, today, seen, result) -> Story:  # type: ignore[no-untyped-def]
    """The Hermosillo agency's weapons and officers, and a revista of them by the 4th
    military zone, closed: its acta prints Sonora's time, the armory's address, the LOC,
    those present and every weapon in its annex."""
    from resguardo.services import inspections
    code, _name, n_arms, n_officers = SONORA
    yield today - timedelta(days=20)
    weights = [c[5] for c in CATALOGUE]
    serials: list[str] = []
    with app.work(None) as uow:
        for i in range(n_officers):
            registry.add_officer(uow, code, OfficerInput(
                badge=f"HMO-{i + 1:04d}",
                name=f"{rng.choice(FIRST)} {rng.choice(LAST)} {rng.choice(LAST)}",
                credential_folio=f"CP-{rng.randint(100000, 999999)}",
                credential_expiry=(today + timedelta(days=400)).date(),
                qualification_expiry=(today + timedelta(days=300)).date()), "LOC-SON-0017")
        for _ in range(n_arms):
            make, model, calibre, kind, pattern, _w = rng.choices(CATALOGUE, weights)[0]
            serial = _serial(rng, pattern)
            while (make, serial) in seen:
                serial = _serial(rng, pattern)
            seen.add((make, serial))
            registry.register_firearm(uow, code, "ARM-1", FirearmInput(
                serial=serial, make=make, model=model, calibre=calibre, kind=kind,
                folio=f"RFA-{rng.randint(1000000, 9999999)}",
                acquired_on=(today - timedelta(days=rng.randint(60, 2000))).date(),
                supplier="DCAM SEDENA"), "LOC-SON-0017")
            serials.append(serial)
        custody.issue(uow, serials[0], "HMO-0001")
        uow.commit()
    result.firearms += n_arms
    result.officers += n_officers
    yield today - timedelta(days=6, hours=-1)
    with app.work("inspector_son") as uow:
        iid = inspections.plan(uow, code, (today - timedelta(days=3)).date()).position
        uow.commit()
    yield today - timedelta(days=3, hours=-10)  # 09:xx in Hermosillo (UTC-7)
    with app.work("inspector_son") as uow:
        inspections.open_(uow, iid, SONORA_PRESENT)
        uow.commit()
    with app.work("inspector_son") as uow:
        for n, serial in enumerate(serials[1:-2]):  # two not seen, one issued to present
            clock.now += timedelta(seconds=25)
            inspections.scan(uow, iid, serial, location="ARM-1",
                             source="scanner" if n % 7 else "typed")
        uow.commit()
    clock.now += timedelta(minutes=40)
    with app.work("inspector_son") as uow:
        inspections.close(uow, iid)
        uow.commit()
    result.notes.append(f"Revista {iid} of {code} (Sonora time) is closed: "
                        f"`resguardo --as inspector_son inspection acta {iid} --pdf acta.pdf` writes its acta.")


#: The Guadalajara weapons (indices in the agency's list) and officers the incidents use: they
#: never go out on a shift.
_INCIDENT_WEAPONS = (10, 11, 20, 30, 40, *range(50, 90))
_INCIDENT_OFFICERS = (0, 5)


def _incidents(app, clock, rng, today, armory, officers, result) -> Story:  # type: ignore[no-untyped-def]
    """Losses (one not notified), a recovery, a decommission, a suspended officer holding a
    weapon, a serial correction awaiting approval (a story: yields the instant of each step)."""
    gdl, zap = armory["MUN-GDL"], armory["MUN-ZAP"]

    def at(days_ago: float) -> datetime:
        return today - timedelta(days=days_ago)

    def later(hours: float) -> datetime:
        return clock.now + timedelta(hours=hours)

    def notify(serial: str, reference: str) -> None:
        with app.work("armero" if serial in gdl else None) as uow:
            custody.record_notification(uow, serial, clock.now, reference=reference)
            uow.commit()

    yield at(200)
    with app.work("armero") as uow:
        custody.report_missing(uow, gdl[10], stolen=True, occurred_on=_day(uow, "MUN-GDL"),
                               place="Av. Vallarta y Av. Chapultepec, Guadalajara", on_duty=True,
                               complaint_number="FGE/JAL/UIDV/1182/2026",
                               complaint_authority="FGE Jalisco")
        uow.commit()
    yield later(3)
    notify(gdl[10], "OF-ZM15-0311/2026")
    yield at(120)
    with app.work("armero") as uow:
        custody.report_missing(uow, gdl[11], stolen=False, occurred_on=_day(uow, "MUN-GDL"),
                               place="Patrulla GDL-214, colonia Oblatos", on_duty=True,
                               complaint_number="FGE/JAL/4410/2026",
                               complaint_authority="FGE Jalisco")
        uow.commit()
    yield later(20)
    notify(gdl[11], "OF-ZM15-0588/2026")
    yield at(60)
    with app.work("armero") as uow:
        custody.recover(uow, gdl[11], "FGE Jalisco, carpeta FGE/JAL/4410/2026",
                        "Entregada por un vecino en la base Oblatos")
        uow.commit()
    yield at(45)
    with app.work(None) as uow:
        custody.report_missing(uow, zap[3], stolen=True, occurred_on=_day(uow, "MUN-ZAP"),
                               place="Domicilio particular, Zapopan", on_duty=False,
                               complaint_number="FGE/JAL/ZAP/877/2026",
                               complaint_authority="FGE Jalisco")
        uow.commit()
    yield later(10)
    notify(zap[3], "OF-ZM15-0702/2026")
    yield at(30)
    with app.work("jefe") as uow:
        custody.determine_negligence(uow, gdl[11], True,
                                     "Dejada sin custodia en la patrulla, dictamen de asuntos internos")
        custody.release(uow, gdl[11], "ARM-1", "Oficio FGE/JAL/LIB/221/2026")
        uow.commit()
    yield at(30)
    with app.work("armero") as uow:
        custody.request_decommission(uow, gdl[20], "Corredera fracturada, dictamen técnico DT-77")
        uow.commit()
    with app.work("jefe") as uow:
        custody.approve_decommission(uow, gdl[20])
        uow.commit()
    # the unnotified loss: three days ago, nobody told the military zone
    yield at(3)
    with app.work("armero") as uow:
        custody.report_missing(uow, gdl[30], stolen=False, occurred_on=_day(uow, "MUN-GDL"),
                               place="Estación Centro, Guadalajara", on_duty=True,
                               complaint_number="FGE/JAL/9921/2026",
                               complaint_authority="FGE Jalisco")
        uow.commit()
    # weapons bought lately: one declared on the LOC after its registration, one never
    # declared (its 30 days ran out: the alert shows it); a recruit with no credential folio
    # yet, carrying (the other alert)
    yield at(2.5)
    undeclared = _demo_serial(rng, "AAAA999", armory)
    declared = _demo_serial(rng, "AAAA999", armory)
    with app.work("armero") as uow:
        for serial, days in ((undeclared, 45), (declared, 25)):
            bought = (today - timedelta(days=days)).date()
            registry.register_firearm(uow, "MUN-GDL", "ARM-1", FirearmInput(
                serial=serial, make="Glock", model="17", calibre="9x19mm", kind="pistol",
                folio=f"RFA-{rng.randint(1000000, 9999999)}", acquired_on=bought,
                supplier="DCAM SEDENA", purchase_ref=f"OC-{bought.year}-214"))
        uow.commit()
    yield at(2)
    with app.work("armero") as uow:
        registry.attach_firearm(uow, declared, "LOC-JAL-0042",
                                "Manifestada a la 15a Zona Militar, oficio ZM15/LOC/0412")
        uow.commit()
    yield at(1.8)
    recruit = f"GDL-{len(officers['MUN-GDL']) + 1:04d}"
    with app.work("jefe") as uow:
        registry.add_officer(uow, "MUN-GDL", OfficerInput(
            badge=recruit, name="Iván Zúñiga Ledesma", cuip="ZULI990412HJCXDV07",
            credential_expiry=(today + timedelta(days=700)).date(),
            qualification_expiry=(today + timedelta(days=300)).date()), "LOC-JAL-0042")
        uow.commit()
    yield at(1.5)
    with app.work("armero") as uow:
        custody.issue(uow, gdl[70], recruit)
        uow.commit()
    # an officer suspended while still holding a weapon
    yield at(1)
    holder = officers["MUN-GDL"][5]
    with app.work("armero") as uow:
        custody.issue(uow, gdl[40], holder)
        uow.commit()
    yield at(0.5)
    with app.work("jefe") as uow:
        registry.suspend_officer(uow, "MUN-GDL", holder, "Investigación de asuntos internos AI-311")
        uow.commit()
    # the armorer asks to correct a serial (two characters transposed); the chief has not decided
    yield at(0.25)
    corrected = _pending_correction(app, gdl[50:60])
    # the first officer's weapon of record (arma de cargo), printed on his credential
    first = officers["MUN-GDL"][0]
    with app.work("jefe") as uow:
        stored = [s for s in gdl[60:90] if uow.repo.firearm(s).status.value == "in_storage"]
        for serial in stored[:1]:
            credential.assign(uow, first, serial, reason="Arma de cargo por adscripción")
        uow.commit()
    notes = [
        f"Unnotified loss: {gdl[30]} (Guadalajara), reported 3 days ago",
        f"Suspended officer {holder} still holds {gdl[40]}",
        f"Weapon not declared on LOC-JAL-0042 after 30 days: Glock {undeclared} (Guadalajara)",
        f"Recruit {recruit} carries {gdl[70]} with no credential folio yet",
    ]
    if stored:
        notes.append(f"{stored[0]} is the weapon of record of {first}: resguardo --as "
                     f"jefe credential print {first} --out credencial.pdf")
    if corrected is not None:
        notes.append(f"Serial correction of {corrected[0]} to {corrected[1]} awaits the "
                     "chief's approval (resguardo --as jefe approve correction "
                     f"{corrected[0]})")
    result.notes[:0] = notes  # before the revista's, written three days ago


def _demo_serial(rng: random.Random, pattern: str,  # type: ignore[type-arg]
                 armory: dict) -> str:
    """A serial of ``pattern`` no agency of the demo holds yet."""
    taken = {serial for serials in armory.values() for serial in serials}
    serial = _serial(rng, pattern)
    while serial in taken:
        serial = _serial(rng, pattern)
    return serial


def _pending_correction(app, serials: list[str]) -> tuple[str, str] | None:  # type: ignore[no-untyped-def]
    """Ask, as the armorer, to correct the first of ``serials`` whose transposed serial is free."""
    for serial in serials:
        new = serial[:-2] + serial[-1] + serial[-2]
        if new == serial:
            continue
        try:
            with app.work("armero") as uow:
                firearm = uow.repo.firearm(serial)
                custody.correct(uow, firearm.id, {"serial": new},
                                "Serie capturada con los dos últimos caracteres transpuestos")
                uow.commit()
        except DomainError:
            continue
        return serial, new
    return None
