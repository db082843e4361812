"""Tables the HTTP API keeps beside the projection, on the same metadata.

None of them is derived from the log, and none is replayed: they record how
clients reach the system, not what happened to a weapon.

- ``api_secrets``: deployment secrets the server generates once (the key that
  signs session tokens), so every server process and every restart agree.
- ``api_tokens``: long-lived tokens for integrations; only a SHA-256 of the
  token is kept, so a copy of the table authenticates nobody.
- ``auth_failures``: failed sign-ins per network address, for rate limiting.
- ``idempotency_keys``: the stored answer to a write sent with an
  ``Idempotency-Key`` header, written in the same transaction as the write.
- ``webhooks``, ``webhook_deliveries``, ``webhook_attempts``: subscriptions,
  one delivery per (subscription, event), and every attempt at it.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from resguardo.storage.tables import Instant, metadata

api_secrets = Table(
    "api_secrets", metadata,
    Column("name", String(40), primary_key=True),
    Column("value", String(200), nullable=False),
    Column("created_at", Instant, nullable=False),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("created_at", Instant, nullable=False),
    Column("created_by", Integer, nullable=True),
    Column("expires_at", Instant, nullable=True),
    Column("revoked_at", Instant, nullable=True),
    Column("revoked_by", Integer, nullable=True),
)

auth_failures = Table(
    "auth_failures", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("address", String(64), nullable=False),
    Column("username", String(80), nullable=True),
    Column("at", Instant, nullable=False),
    Index("ix_auth_failures_address_at", "address", "at"),
)

idempotency_keys = Table(
    "idempotency_keys", metadata,
    Column("user_id", Integer, primary_key=True, autoincrement=False),
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response_body", Text, nullable=False),
    Column("created_at", Instant, nullable=False),
    Index("ix_idempotency_keys_created_at", "created_at"),
)

webhooks = Table(
    "webhooks", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("url", String(2000), nullable=False),
    Column("event_types", Text, nullable=False),  # JSON list of types or "prefix.*"
    Column("secret", String(200), nullable=False),
    Column("owner_id", Integer, nullable=True),
    Column("scope_id", BigInteger, ForeignKey("organizations.id"), nullable=False),
    Column("description", String(200), nullable=True),
    Column("active", Boolean, nullable=False),
    Column("cursor", BigInteger, nullable=False),  # next log position to consider
    Column("created_at", Instant, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("webhook_id", Integer, ForeignKey("webhooks.id"), nullable=False),
    Column("event_position", BigInteger, nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("state", String(12), nullable=False),  # pending, delivered, failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Instant, nullable=False),
    Column("lease_until", Instant, nullable=True),
    Column("last_status", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", Instant, nullable=False),
    Column("delivered_at", Instant, nullable=True),
    UniqueConstraint("webhook_id", "event_position"),
    Index("ix_webhook_deliveries_state_next", "state", "next_attempt_at"),
)

webhook_attempts = Table(
    "webhook_attempts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", Integer, ForeignKey("webhook_deliveries.id"), nullable=False,
           index=True),
    Column("attempt", Integer, nullable=False),
    Column("at", Instant, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("duration_ms", Integer, nullable=False),
)

#: The API's own tables (not part of the replayed projection).
API_TABLES: tuple[Table, ...] = (api_secrets, api_tokens, auth_failures, idempotency_keys,
                                 webhooks, webhook_deliveries, webhook_attempts)
