"""web: browser sessions and officers' shift-desk PINs

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-30 12:00:00

Written by hand. Both tables live beside the projection (they are not derived
from the log); see resguardo/storage/web_tables.py.
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'web_sessions',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=80), nullable=False),
        sa.Column('csrf', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.String(length=27), nullable=False),
        sa.Column('seen_at', sa.String(length=27), nullable=False),
        sa.Column('expires_at', sa.String(length=27), nullable=False),
        sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_web_sessions')),
    )
    op.create_index('ix_web_sessions_user_id', 'web_sessions', ['user_id'], unique=False)
    op.create_table(
        'officer_pins',
        sa.Column('officer_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('pin_hash', sa.String(length=200), nullable=False),
        sa.Column('set_at', sa.String(length=27), nullable=False),
        sa.Column('set_by', sa.Integer(), nullable=True),
        sa.Column('failed', sa.Integer(), nullable=False),
        sa.Column('locked_until', sa.String(length=27), nullable=True),
        sa.PrimaryKeyConstraint('officer_id', name=op.f('pk_officer_pins')),
    )


def downgrade() -> None:
    op.drop_table('officer_pins')
    op.drop_index('ix_web_sessions_user_id', table_name='web_sessions')
    op.drop_table('web_sessions')
