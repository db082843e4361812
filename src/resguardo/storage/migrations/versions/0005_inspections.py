"""inspections

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 17:26:09.546617
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inspections',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('authority_id', sa.BigInteger(), nullable=False),
    sa.Column('agency_id', sa.BigInteger(), nullable=False),
    sa.Column('planned_on', sa.String(length=10), nullable=False),
    sa.Column('sealed', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('locations', sa.Text(), nullable=False),
    sa.Column('people', sa.Text(), nullable=False),
    sa.Column('ordered_by', sa.Integer(), nullable=True),
    sa.Column('planned_at', sa.String(length=27), nullable=False),
    sa.Column('opened_at', sa.String(length=27), nullable=True),
    sa.Column('closed_at', sa.String(length=27), nullable=True),
    sa.Column('revealed', sa.Boolean(), nullable=False),
    sa.Column('refused_movements', sa.Integer(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('acta_sha256', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['organizations.id'], name=op.f('fk_inspections_agency_id_organizations')),
    sa.ForeignKeyConstraint(['authority_id'], ['organizations.id'], name=op.f('fk_inspections_authority_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspections'))
    )
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspections_agency_id'), ['agency_id'], unique=False)

    op.create_table('inspection_actas',
    sa.Column('inspection_id', sa.BigInteger(), nullable=False),
    sa.Column('lang', sa.String(length=2), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_inspection_actas_inspection_id_inspections')),
    sa.PrimaryKeyConstraint('inspection_id', name=op.f('pk_inspection_actas'))
    )
    op.create_table('inspection_findings',
    sa.Column('inspection_id', sa.BigInteger(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('serial', sa.String(length=60), nullable=True),
    sa.Column('make', sa.String(length=60), nullable=True),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('actionable', sa.Boolean(), nullable=False),
    sa.Column('resolution', sa.String(length=20), nullable=True),
    sa.Column('answered_at', sa.String(length=27), nullable=True),
    sa.Column('answered_by', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['organizations.id'], name=op.f('fk_inspection_findings_agency_id_organizations')),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_inspection_findings_inspection_id_inspections')),
    sa.PrimaryKeyConstraint('inspection_id', 'seq', name=op.f('pk_inspection_findings'))
    )
    with op.batch_alter_table('inspection_findings', schema=None) as batch_op:
        batch_op.create_index('ix_inspection_findings_open', ['agency_id', 'resolution'], unique=False)

    op.create_table('inspection_rounds',
    sa.Column('inspection_id', sa.BigInteger(), nullable=False),
    sa.Column('location', sa.String(length=64), nullable=False),
    sa.Column('calibre', sa.String(length=40), nullable=False),
    sa.Column('lot', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_inspection_rounds_inspection_id_inspections')),
    sa.PrimaryKeyConstraint('inspection_id', 'location', 'calibre', 'lot', name=op.f('pk_inspection_rounds'))
    )
    op.create_table('inspection_scans',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('inspection_id', sa.BigInteger(), nullable=False),
    sa.Column('serial', sa.String(length=60), nullable=False),
    sa.Column('serial_key', sa.String(length=60), nullable=False),
    sa.Column('make', sa.String(length=60), nullable=True),
    sa.Column('location', sa.String(length=64), nullable=True),
    sa.Column('holder', sa.String(length=32), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('observed_at', sa.String(length=27), nullable=False),
    sa.Column('scanned_by', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_inspection_scans_inspection_id_inspections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_scans'))
    )
    with op.batch_alter_table('inspection_scans', schema=None) as batch_op:
        batch_op.create_index('ix_inspection_scans_inspection', ['inspection_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inspection_scans', schema=None) as batch_op:
        batch_op.drop_index('ix_inspection_scans_inspection')

    op.drop_table('inspection_scans')
    op.drop_table('inspection_rounds')
    with op.batch_alter_table('inspection_findings', schema=None) as batch_op:
        batch_op.drop_index('ix_inspection_findings_open')

    op.drop_table('inspection_findings')
    op.drop_table('inspection_actas')
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspections_agency_id'))

    op.drop_table('inspections')
