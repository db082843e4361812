"""Snapshots the pure-core tests judge: two agencies under one state, their stores,
a weapon and officers. Plain values; no database anywhere in tests/unit/domain."""

from __future__ import annotations

from datetime import UTC, date, datetime

from resguardo.domain.codes import FirearmKind, FirearmStatus, OrgKind
from resguardo.domain.entities import Firearm, Location, Officer, Organization

S = FirearmStatus
NOW = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
FAR = date(2030, 1, 1)

NATIONAL = Organization(1, "NACIONAL", "Autoridad nacional", OrgKind.NATIONAL, None, "/1/")
STATE = Organization(2, "SSP", "Secretaría de Seguridad", OrgKind.STATE, 1, "/1/2/")
ZONE = Organization(3, "ZM15", "15a Zona Militar", OrgKind.MILITARY_ZONE, 1, "/1/3/")
MUN1 = Organization(4, "MUN1", "Policía Municipal 1", OrgKind.AGENCY, 2, "/1/2/4/")
MUN2 = Organization(5, "MUN2", "Policía Municipal 2", OrgKind.AGENCY, 2, "/1/2/5/")
STATE20 = Organization(20, "SSP20", "Otra secretaría", OrgKind.STATE, 1, "/1/20/")
MUN40 = Organization(40, "MUN40", "Policía Municipal 40", OrgKind.AGENCY, 20, "/1/20/40/")

ARM1 = Location(7, MUN1.id, "ARM1", "Armería central", "armory")
ARM2 = Location(8, MUN1.id, "ARM2", "Armería norte", "armory")
ARM_MUN2 = Location(9, MUN2.id, "ARM1", "Armería", "armory")

GUN = Firearm(10, "GLK-A100", "GLKA100", "Glock", "9x19mm", FirearmKind.PISTOL, MUN1.id,
              S.IN_STORAGE, model="17", location_id=ARM1.id)
ANA = Officer(20, MUN1.id, "P1", "Ana Ruiz", credential_expiry=FAR, qualification_expiry=FAR)
LUIS = Officer(21, MUN1.id, "P2", "Luis Mora", credential_expiry=FAR, qualification_expiry=FAR)
RAUL = Officer(30, MUN2.id, "Q1", "Raúl Díaz", credential_expiry=FAR, qualification_expiry=FAR)

ARMORER_ID, CHIEF_ID, OTHER_CHIEF_ID = 100, 101, 102
