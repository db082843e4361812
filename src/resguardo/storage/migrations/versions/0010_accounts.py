"""accounts: service accounts, one-time passwords, API sessions on the server, the
credential behind every entry, power changes awaiting a second admin

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 15:20:00

Written by hand; see resguardo/storage/account_tables.py.

- ``users.kind``: ``person`` or ``service`` (an integration: token only, never
  signs in, never one half of a two-person rule); ``users.must_change_password``
  after an admin's reset.
- ``web_sessions.surface``: the table now holds every session the server can
  end, from the web (a cookie) and from the API (a bearer token).
- ``event_credentials``: which credential wrote which entries (one row per
  committed unit of work: a range of positions).
- ``power_requests``: grants of power awaiting a second admin.
- The API's old session-signing key is deleted from ``api_secrets``: sessions
  are looked up on the server, so no key in the database signs anyone in.
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

Instant = sa.String(length=27)


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=False,
                                      server_default='person'))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('surface', sa.String(length=8), nullable=False,
                                      server_default='web'))
    op.create_table(
        'event_credentials',
        sa.Column('first_position', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('end_position', sa.BigInteger(), nullable=False),
        sa.Column('credential', sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint('first_position', name=op.f('pk_event_credentials')),
    )
    op.create_table(
        'power_requests',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('username', sa.String(length=80), nullable=False),
        sa.Column('scope_id', sa.BigInteger(), nullable=False),
        sa.Column('details', sa.Text(), nullable=False),
        sa.Column('requested_by', sa.Integer(), nullable=False),
        sa.Column('requested_at', Instant, nullable=False),
        sa.Column('decided_by', sa.Integer(), nullable=True),
        sa.Column('decided_at', Instant, nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_power_requests')),
    )
    op.execute("DELETE FROM api_secrets WHERE name = 'session_signing_key'")


def downgrade() -> None:
    op.drop_table('power_requests')
    op.drop_table('event_credentials')
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_column('surface')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('kind')
