"""oversight relation; findings reviewed by the overseer; weapons in service at closing

Revision ID: 0012
Revises: 0007
Create Date: 2026-12-06 15:20:00

Written by hand.

- ``oversight``: "authority X oversees agency Y" (the military zone over the
  agencies carrying under a collective licence in its territory), apart from the
  administrative parent; an agency may have several overseers.
- ``inspection_findings`` gains the review of an answer: ``state`` (open,
  answered, closed, reopened), the agency's ``evidence`` and the overseer's
  review. Findings answered before this migration wait for review (``answered``).
- ``inspections.present_by``: the deadline by which weapons recorded as issued
  when the count closed must be presented.
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'oversight',
        sa.Column('overseer_id', sa.BigInteger(), nullable=False),
        sa.Column('agency_id', sa.BigInteger(), nullable=False),
        sa.Column('since', sa.String(length=27), nullable=False),
        sa.ForeignKeyConstraint(['overseer_id'], ['organizations.id'],
                                name=op.f('fk_oversight_overseer_id_organizations')),
        sa.ForeignKeyConstraint(['agency_id'], ['organizations.id'],
                                name=op.f('fk_oversight_agency_id_organizations')),
        sa.PrimaryKeyConstraint('overseer_id', 'agency_id', name=op.f('pk_oversight')),
    )
    op.create_index('ix_oversight_agency', 'oversight', ['agency_id'])
    with op.batch_alter_table('inspections') as batch:
        batch.add_column(sa.Column('present_by', sa.String(length=27), nullable=True))
    with op.batch_alter_table('inspection_findings') as batch:
        batch.add_column(sa.Column('state', sa.String(length=10), nullable=False,
                                   server_default='open'))
        batch.add_column(sa.Column('evidence', sa.Text(), nullable=True))
        batch.add_column(sa.Column('reviewed_at', sa.String(length=27), nullable=True))
        batch.add_column(sa.Column('reviewed_by', sa.String(length=80), nullable=True))
        batch.add_column(sa.Column('review_note', sa.Text(), nullable=True))
    op.execute("UPDATE inspection_findings SET state = 'answered' WHERE resolution IS NOT NULL")
    op.create_index('ix_inspection_findings_state', 'inspection_findings',
                    ['inspection_id', 'state'])


def downgrade() -> None:
    op.drop_index('ix_inspection_findings_state', table_name='inspection_findings')
    with op.batch_alter_table('inspection_findings') as batch:
        for column in ('review_note', 'reviewed_by', 'reviewed_at', 'evidence', 'state'):
            batch.drop_column(column)
    with op.batch_alter_table('inspections') as batch:
        batch.drop_column('present_by')
    op.drop_index('ix_oversight_agency', table_name='oversight')
    op.drop_table('oversight')
