"""entry secrets: a random secret per log entry, committed in its leaf

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-06 15:20:00

Written by hand. Each entry written from now on carries a random secret of 128 bits
(``secrets``), kept in ``events.secret`` and committed in its ledger leaf (the
``secret`` member of the canonical JSON document), so that a leaf hash or a proof says
nothing about an entry one may not read. Entries written before keep NULL here and
their leaves stay exactly as they were (a leaf has a ``secret`` member only when the
entry has one), so an existing log, its tree and its checkpoints keep verifying.
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('events', sa.Column('secret', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('secret')
