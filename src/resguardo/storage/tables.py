"""Tables. Instants are UTC text (``YYYY-MM-DDTHH:MM:SS.ffffffZ``) and dates
ISO text, so SQLite and PostgreSQL store and hash them identically.

``events`` is the source of truth. The *projection* tables answer "where is
it now" and are derived from events by ``projector.py``; ``PROJECTION`` lists
them for the rebuild check. Entity ids are the position of the event that
created the entity, so a replay reproduces them exactly.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Instant = String(27)
Day = String(10)

# --- the log -------------------------------------------------------------

log_head = Table(
    "log_head", metadata,
    Column("id", Integer, primary_key=True),
    Column("size", BigInteger, nullable=False),
)

events = Table(
    "events", metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("type", String(64), nullable=False),
    Column("at", Instant, nullable=False),
    Column("actor_id", Integer, nullable=True),
    Column("actor", String(80), nullable=False),
    Column("org_id", BigInteger, nullable=True),
    Column("subject_type", String(32), nullable=True),
    Column("subject_id", BigInteger, nullable=True),
    Column("corrects", BigInteger, nullable=True),
    Column("reason", Text, nullable=True),
    Column("request_id", String(64), nullable=True),
    Column("payload", Text, nullable=False),
    # a random secret committed in the entry's leaf (NULL: written before 0009, leaf as before)
    Column("secret", String(64), nullable=True),
    Index("ix_events_subject", "subject_type", "subject_id", "position"),
    Index("ix_events_type_position", "type", "position"),
)

# --- users (accounts, not part of the replayed projection) ----------------

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(80), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("scope_id", BigInteger, ForeignKey("organizations.id"), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("totp_secret", String(64), nullable=True),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", Instant, nullable=True),
    Column("created_at", Instant, nullable=False),
    # "person" or "service" (an integration: token only; see services/accounts.py)
    Column("kind", String(16), nullable=False, default="person", server_default="person"),
    Column("must_change_password", Boolean, nullable=False, default=False,
           server_default=false()),
    Column("post", String(200), nullable=True),  # the person's post (cargo), for documents
)

# --- projection ------------------------------------------------------------

organizations = Table(
    "organizations", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("parent_id", BigInteger, ForeignKey("organizations.id"), nullable=True),
    Column("path", String(400), nullable=False, index=True),
    # IANA zone its documents print times in (NULL: the nearest ancestor's); see domain.place
    Column("time_zone", String(64), nullable=True),
    Column("city", String(200), nullable=True),
    Column("address", String(400), nullable=True),  # of the armory: the place an acta names
)

oversight = Table(  # "authority X oversees agency Y", apart from the administrative tree
    "oversight", metadata,
    Column("overseer_id", BigInteger, ForeignKey("organizations.id"), primary_key=True),
    Column("agency_id", BigInteger, ForeignKey("organizations.id"), primary_key=True),
    Column("since", Instant, nullable=False),
    Index("ix_oversight_agency", "agency_id"),
)

locations = Table(
    "locations", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("agency_id", BigInteger, ForeignKey("organizations.id"), nullable=False),
    Column("code", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    UniqueConstraint("agency_id", "code"),
)

licences = Table(
    "licences", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("number", String(200), nullable=False, unique=True),
    Column("holder_id", BigInteger, ForeignKey("organizations.id"), nullable=False),
    Column("valid_from", Day, nullable=False),
    Column("valid_to", Day, nullable=False),
)

licence_agencies = Table(
    "licence_agencies", metadata,
    Column("licence_id", BigInteger, ForeignKey("licences.id"), primary_key=True),
    Column("agency_id", BigInteger, ForeignKey("organizations.id"), primary_key=True),
)

officers = Table(
    "officers", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("agency_id", BigInteger, ForeignKey("organizations.id"), nullable=False),
    Column("badge", String(32), nullable=False),
    Column("name", String(200), nullable=False),
    Column("cuip", String(32), nullable=True),
    Column("status", String(20), nullable=False),
    Column("credential_folio", String(64), nullable=True),
    Column("credential_expiry", Day, nullable=True),
    Column("qualification_expiry", Day, nullable=True),
    Column("licence_id", BigInteger, ForeignKey("licences.id"), nullable=True),
    UniqueConstraint("agency_id", "badge"),
)

firearms = Table(
    "firearms", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("serial", String(40), nullable=False),
    Column("serial_key", String(40), nullable=False, index=True),
    Column("make", String(60), nullable=False),
    Column("make_key", String(60), nullable=False),
    Column("model", String(60), nullable=True),
    Column("calibre", String(40), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("folio", String(64), nullable=True),
    Column("barrel_serial", String(40), nullable=True),
    Column("ballistic_id", String(64), nullable=True),
    Column("licence_id", BigInteger, ForeignKey("licences.id"), nullable=True),
    Column("acquired_on", Day, nullable=True),
    Column("supplier", String(200), nullable=True),
    Column("purchase_ref", String(64), nullable=True),
    Column("agency_id", BigInteger, ForeignKey("organizations.id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("location_id", BigInteger, ForeignKey("locations.id"), nullable=True),
    Column("custodian_id", BigInteger, ForeignKey("officers.id"), nullable=True),
    Column("status_since", Instant, nullable=False),
    Column("last_event", BigInteger, nullable=False),
    # the officer whose weapon of record (arma de cargo) it is, and since when
    Column("record_officer_id", BigInteger, nullable=True, index=True),
    Column("record_since", Instant, nullable=True),
    #: The import that registered the weapon in slices (``imports``), if any: until that
    #: import is completed the weapon is in no one's custody and takes no entry.
    Column("import_id", BigInteger, nullable=True),
    UniqueConstraint("make_key", "serial_key"),
    Index("ix_firearms_agency_status", "agency_id", "status"),
    Index("ix_firearms_custodian", "custodian_id"),
    # the weapons on no licence (the 30-day declaration alert), migration 0017
    Index("ix_firearms_undeclared", "agency_id", "status", sqlite_where=text("licence_id IS NULL"),
          postgresql_where=text("licence_id IS NULL")),
    Index("ix_firearms_import", "import_id", "id"),
)

#: Imports written in slices (``services.imports``): one row per ``import.started``,
#: ``running`` until its ``import.completed`` (``completed``) or its ``import.voided``
#: entries (``voiding``, then ``voided`` once every slice is taken back).
imports = Table(
    "imports", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("agency_id", BigInteger, ForeignKey("organizations.id"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("file", String(1000), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("state", String(20), nullable=False),
    Column("started_at", Instant, nullable=False),
    Column("ended_at", Instant, nullable=True),
    Column("ended_by", BigInteger, nullable=True),
)

loss_reports = Table(
    "loss_reports", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("firearm_id", BigInteger, ForeignKey("firearms.id"), nullable=False, index=True),
    Column("agency_id", BigInteger, ForeignKey("organizations.id"), nullable=False),
    Column("stolen", Boolean, nullable=False),
    Column("occurred_on", Day, nullable=False),
    Column("place", String(200), nullable=False),
    Column("on_duty", Boolean, nullable=False),
    Column("complaint_number", String(200), nullable=True),
    Column("complaint_authority", String(200), nullable=True),
    Column("officer_id", BigInteger, nullable=True),
    Column("reported_by", BigInteger, nullable=True),
    Column("reported_at", Instant, nullable=False),
    Column("notified_at", Instant, nullable=True),
    Column("notification_ref", String(200), nullable=True),
    Column("recovered_at", Instant, nullable=True),
    Column("negligent", Boolean, nullable=True),
    Column("negligence_at", Instant, nullable=True),
)

requests = Table(  # decommissions, transfers and identity corrections awaiting a second person
    "requests", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(20), nullable=False),
    Column("firearm_id", BigInteger, ForeignKey("firearms.id"), nullable=False, index=True),
    Column("agency_id", BigInteger, ForeignKey("organizations.id"), nullable=False),
    Column("to_agency_id", BigInteger, ForeignKey("organizations.id"), nullable=True),
    Column("requested_by", Integer, nullable=True),
    Column("requested_at", Instant, nullable=False),
    Column("reason", Text, nullable=True),
    Column("state", String(20), nullable=False),
    Column("decided_by", Integer, nullable=True),
    Column("decided_at", Instant, nullable=True),
)

overrides = Table(
    "overrides", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("officer_id", BigInteger, ForeignKey("officers.id"), nullable=False, index=True),
    Column("granted_by", Integer, nullable=True),
    Column("reason", Text, nullable=False),
    Column("expires_at", Instant, nullable=False),
    Column("used_by_event", BigInteger, nullable=True),
)

ammo_stock = Table(
    "ammo_stock", metadata,
    Column("location_id", BigInteger, ForeignKey("locations.id"), primary_key=True),
    Column("calibre", String(40), primary_key=True),
    Column("lot", String(64), primary_key=True),
    Column("quantity", BigInteger, nullable=False),
)

ammo_out = Table(
    "ammo_out", metadata,
    Column("officer_id", BigInteger, ForeignKey("officers.id"), primary_key=True),
    Column("calibre", String(40), primary_key=True),
    Column("lot", String(64), primary_key=True),
    Column("quantity", BigInteger, nullable=False),
)

alert_acks = Table(
    "alert_acks", metadata,
    Column("alert_key", String(120), primary_key=True),
    Column("acked_by", Integer, nullable=True),
    Column("acked_at", Instant, nullable=False),
    Column("note", Text, nullable=True),
)

# --- inspections ----------------------------------------------------------------

inspections = Table(
    "inspections", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("authority_id", BigInteger, ForeignKey("organizations.id"), nullable=False),
    Column("agency_id", BigInteger, ForeignKey("organizations.id"), nullable=False, index=True),
    Column("planned_on", Day, nullable=False),
    Column("sealed", Boolean, nullable=False),
    Column("state", String(10), nullable=False),
    Column("locations", Text, nullable=False),  # JSON list of location codes; [] = all
    Column("people", Text, nullable=False),  # JSON list of people present (domain.place)
    Column("ordered_by", Integer, nullable=True),
    Column("planned_at", Instant, nullable=False),
    Column("opened_at", Instant, nullable=True),
    Column("closed_at", Instant, nullable=True),
    Column("revealed", Boolean, nullable=False),
    Column("refused_movements", Integer, nullable=False),
    Column("summary", Text, nullable=True),  # JSON, when closed
    Column("acta_sha256", String(64), nullable=True),
    Column("present_by", Instant, nullable=True),  # deadline for weapons in service
)

inspection_scans = Table(
    "inspection_scans", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("inspection_id", BigInteger, ForeignKey("inspections.id"), nullable=False),
    Column("serial", String(60), nullable=False),
    Column("serial_key", String(60), nullable=False),
    Column("make", String(60), nullable=True),
    Column("location", String(64), nullable=True),
    Column("holder", String(32), nullable=True),
    Column("note", Text, nullable=True),
    Column("source", String(16), nullable=False),
    Column("observed_at", Instant, nullable=False),
    Column("scanned_by", String(80), nullable=False),
    Index("ix_inspection_scans_inspection", "inspection_id", "id"),
)

inspection_rounds = Table(
    "inspection_rounds", metadata,
    Column("inspection_id", BigInteger, ForeignKey("inspections.id"), primary_key=True),
    Column("location", String(64), primary_key=True),
    Column("calibre", String(40), primary_key=True),
    Column("lot", String(64), primary_key=True),
    Column("quantity", BigInteger, nullable=False),
)

inspection_findings = Table(
    "inspection_findings", metadata,
    Column("inspection_id", BigInteger, ForeignKey("inspections.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("agency_id", BigInteger, ForeignKey("organizations.id"), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("serial", String(60), nullable=True),
    Column("make", String(60), nullable=True),
    Column("details", Text, nullable=False),  # the finding as JSON (docs/formats.md shape)
    Column("actionable", Boolean, nullable=False),
    Column("resolution", String(20), nullable=True),
    Column("answered_at", Instant, nullable=True),
    Column("answered_by", String(80), nullable=True),
    # open -> answered -> closed, or reopened (answered again); see domain.inspections
    Column("state", String(10), nullable=False, server_default="open"),
    Column("evidence", Text, nullable=True),
    Column("reviewed_at", Instant, nullable=True),
    Column("reviewed_by", String(80), nullable=True),
    Column("review_note", Text, nullable=True),
    Index("ix_inspection_findings_open", "agency_id", "resolution"),
    Index("ix_inspection_findings_state", "inspection_id", "state"),
)

inspection_actas = Table(  # the signed document itself; its hash is in the ledger
    "inspection_actas", metadata,
    Column("inspection_id", BigInteger, ForeignKey("inspections.id"), primary_key=True),
    Column("lang", String(2), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("pdf", LargeBinary, nullable=False),
)

#: Tables derived from the log; the rebuild check replays and compares them.
PROJECTION: tuple[Table, ...] = (
    organizations, oversight, locations, licences, licence_agencies, officers, firearms, imports,
    loss_reports, requests, overrides, ammo_stock, ammo_out, alert_acks, inspections, inspection_scans,
    inspection_rounds, inspection_findings,
)
