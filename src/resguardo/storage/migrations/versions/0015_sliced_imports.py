"""imports written in slices: the import each weapon came in, and each import's state

Revision ID: 0015
Revises: 0018
Create Date: 2026-12-06 18:10:00

Written by hand.

- ``firearms.import_id``: the ``import.started`` entry of the sliced import that
  registered the weapon (NULL for every weapon registered before, and for weapons
  registered one by one), indexed with the id so that an import's weapons are found
  in order.
- ``imports``: one row per sliced import, its state (``running``, ``completed``,
  ``voiding``, ``voided``); derived from the log like every projection table.
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('firearms') as batch:
        batch.add_column(sa.Column('import_id', sa.BigInteger(), nullable=True))
        batch.create_index('ix_firearms_import', ['import_id', 'id'], unique=False)
    op.create_table(
        'imports',
        sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('agency_id', sa.BigInteger(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('file', sa.String(length=1000), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('started_at', sa.String(length=27), nullable=False),
        sa.Column('ended_at', sa.String(length=27), nullable=True),
        sa.Column('ended_by', sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(['agency_id'], ['organizations.id'],
                                name=op.f('fk_imports_agency_id_organizations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_imports')),
    )


def downgrade() -> None:
    op.drop_table('imports')
    with op.batch_alter_table('firearms') as batch:
        batch.drop_index('ix_firearms_import')
        batch.drop_column('import_id')
