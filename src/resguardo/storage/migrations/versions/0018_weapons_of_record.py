"""weapons of record (arma de cargo): the officer a weapon is assigned to long-term

Revision ID: 0018
Revises: 0019
Create Date: 2026-12-06 18:00:00

Written by hand.

- ``firearms.record_officer_id``: the officer whose weapon of record the firearm is
  (printed on his credential and his resguardo), NULL for a pool weapon; set by
  ``firearm.assigned_of_record`` and cleared by ``firearm.unassigned_of_record`` or
  when the weapon is lost, stolen, decommissioned or sent to another agency.
- ``firearms.record_since``: when the assignment was recorded.

No entry before this revision assigns a weapon of record: both start NULL.
"""

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('firearms') as batch:
        batch.add_column(sa.Column('record_officer_id', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('record_since', sa.String(length=27), nullable=True))
        batch.create_index('ix_firearms_record_officer_id', ['record_officer_id'])


def downgrade() -> None:
    with op.batch_alter_table('firearms') as batch:
        batch.drop_index('ix_firearms_record_officer_id')
        batch.drop_column('record_since')
        batch.drop_column('record_officer_id')
