"""the acta as an acta circunstanciada: an organization's time zone and place; a user's post

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-06 18:00:00

Written by hand.

- ``organizations.time_zone``: the IANA zone its documents print times in
  (``America/Hermosillo``: Sonora keeps no daylight saving time); NULL takes the
  nearest ancestor's, and ``America/Mexico_City`` when none has one.
- ``organizations.city`` and ``organizations.address``: where its armory is, the
  place an acta names.
- ``users.post``: the person's post (cargo), printed beside the full name on
  receipts, trace requests and actas.

The people present at a revista (``inspections.people``, JSON) become objects
(name, post, identification); rows written before stay plain names, read as names.
"""

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('organizations') as batch:
        batch.add_column(sa.Column('time_zone', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('city', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('address', sa.String(length=400), nullable=True))
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('post', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('post')
    with op.batch_alter_table('organizations') as batch:
        batch.drop_column('address')
        batch.drop_column('city')
        batch.drop_column('time_zone')
