"""a partial index over each weapon's entries that are not issues and returns

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 04:40:00

Written by hand.

A dated trace replays a window of a weapon's last entries before the moment; what the
window leaves unknown (its officer of record, set by an assignment or its registration
long before) it looks for further back among the weapon's entries of the few kinds that
can set it. Without an index holding only those, the database reads either every later
entry of those kinds in the log or the weapon's whole history. ``ix_events_firearm_rare``
holds a weapon's entries other than ``custody.issued`` and ``custody.returned`` (a few a
weapon, against about 1,460 issues and returns a year for a weapon taken every shift),
by (subject_id, position); a query names the same predicate (``tables.FIREARM_RARE``).
"""

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

FIREARM_RARE = ("subject_type = 'firearm' AND type NOT IN ('custody.issued', "
                "'custody.returned')")


def upgrade() -> None:
    op.create_index('ix_events_firearm_rare', 'events', ['subject_id', 'position'],
                    unique=False, postgresql_where=sa.text(FIREARM_RARE),
                    sqlite_where=sa.text(FIREARM_RARE))


def downgrade() -> None:
    op.drop_index('ix_events_firearm_rare', table_name='events')
