"""the weapons on no collective licence, found without reading the whole registry

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-06 18:25:00

Written by hand.

- ``ix_firearms_undeclared``: a partial index on ``firearms(agency_id, status)`` holding only
  the weapons whose ``licence_id`` is NULL. The 30-day declaration alert
  (``services.licences.licence_alerts``, run whenever alerts are shown) reads those
  weapons per agency; without it, every weapon of the agencies in scope is read to
  find the few undeclared ones.

Attaching a weapon or an officer to a licence (``licence.firearm_attached``,
``licence.officer_attached``) updates the existing ``licence_id`` columns; no other
change to the tables.
"""

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_firearms_undeclared', 'firearms', ['agency_id', 'status'],
                    sqlite_where=sa.text('licence_id IS NULL'),
                    postgresql_where=sa.text('licence_id IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_firearms_undeclared', table_name='firearms')
