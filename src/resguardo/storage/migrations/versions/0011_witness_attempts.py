"""witness attempts: every push of a checkpoint to a witness and how it ended

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 15:30:00

Written by hand. Each row is one C2SP tlog-witness add-checkpoint request: the witness,
the checkpoint and the size the proof started from, the HTTP status (0 when the witness
could not be reached) and the outcome (cosigned, refused, unreachable, invalid). Refusals
and long silences become alerts to the auditors and `ledger verify` findings.
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'witness_attempts',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('witness', sa.String(length=200), nullable=False),
        sa.Column('checkpoint_id', sa.Integer(), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('old_size', sa.BigInteger(), nullable=False),
        sa.Column('at', sa.String(length=27), nullable=False),
        sa.Column('status', sa.Integer(), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['checkpoint_id'], ['checkpoints.id'],
                                name=op.f('fk_witness_attempts_checkpoint_id_checkpoints')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_witness_attempts')),
    )
    with op.batch_alter_table('witness_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_witness_attempts_witness', ['witness', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('witness_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_witness_attempts_witness')
    op.drop_table('witness_attempts')
