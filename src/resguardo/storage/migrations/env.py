"""Alembic environment: runs migrations on the connection Resguardo hands it."""

from __future__ import annotations

from alembic import context

from resguardo.storage.tables import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only through resguardo.storage.schema
    raise SystemExit("run migrations with `resguardo init` or `resguardo db upgrade`")

context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
with context.begin_transaction():
    context.run_migrations()
