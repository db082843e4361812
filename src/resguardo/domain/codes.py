"""Stable codes stored in the database and exchanged in files.

A stored code is never renamed or renumbered; labels in each language live in
the translations, not here.
"""

from __future__ import annotations

from enum import StrEnum


class FirearmStatus(StrEnum):
    IN_STORAGE = "in_storage"
    ISSUED = "issued"
    IN_REPAIR = "in_repair"
    IN_TRANSIT = "in_transit"
    LOST = "lost"
    STOLEN = "stolen"
    DECOMMISSIONED = "decommissioned"
    HELD_AS_EVIDENCE = "held_as_evidence"
    """Recovered and held by the prosecutor (asegurada / en resguardo ministerial) until
    a chief records its release; never issued before."""


#: Statuses in which a weapon is expected to be absent from an armory count.
GONE_STATUSES = frozenset({FirearmStatus.LOST, FirearmStatus.STOLEN, FirearmStatus.DECOMMISSIONED})


class FirearmKind(StrEnum):
    PISTOL = "pistol"
    REVOLVER = "revolver"
    RIFLE = "rifle"
    CARBINE = "carbine"
    SHOTGUN = "shotgun"
    SUBMACHINE_GUN = "submachine_gun"
    OTHER = "other"


class OfficerStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    SEPARATED = "separated"


class Role(StrEnum):
    ARMORER = "armorer"
    CHIEF = "chief"
    SUPERVISOR = "supervisor"
    INSPECTOR = "inspector"
    INVESTIGATOR = "investigator"
    AUDITOR = "auditor"
    ADMIN = "admin"


#: Roles that read and inspect, besides their scope, the agencies its authorities oversee.
OVERSIGHT_ROLES = frozenset({Role.SUPERVISOR, Role.INSPECTOR, Role.AUDITOR})


class OrgKind(StrEnum):
    NATIONAL = "national"
    MILITARY_ZONE = "military_zone"
    STATE = "state"
    AGENCY = "agency"


class LocationKind(StrEnum):
    ARMORY = "armory"
    VAULT = "vault"
    STATION = "station"
    VEHICLE = "vehicle"
    REPAIR_SHOP = "repair_shop"
