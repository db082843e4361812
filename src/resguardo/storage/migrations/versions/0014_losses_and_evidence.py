"""losses as the ministry wants them: the complaint's authority, who reported, negligence

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-06 16:40:00

Written by hand.

- ``loss_reports.complaint_authority``: the authority the complaint (denuncia) was
  filed with ("FGE Jalisco"); reports recorded before stay NULL.
- ``loss_reports.reported_by``: the user who reported it (filled from the log for
  earlier reports), so that a chief's negligence determination is never theirs.
- ``loss_reports.negligent`` and ``negligence_at``: the chief's later determination.

A recovered weapon's new status ``held_as_evidence`` fits the existing
``firearms.status`` column; nothing to change there.
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('loss_reports') as batch:
        batch.add_column(sa.Column('complaint_authority', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('reported_by', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('negligent', sa.Boolean(), nullable=True))
        batch.add_column(sa.Column('negligence_at', sa.String(length=27), nullable=True))
    op.execute("UPDATE loss_reports SET reported_by = (SELECT actor_id FROM events "
               "WHERE events.position = loss_reports.id)")


def downgrade() -> None:
    with op.batch_alter_table('loss_reports') as batch:
        batch.drop_column('negligence_at')
        batch.drop_column('negligent')
        batch.drop_column('reported_by')
        batch.drop_column('complaint_authority')
