"""custody entries by officer: an index on the officer inside issue and return payloads

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 00:05:00

Written by hand. An officer's custody history (the web's officer page) finds
the officer inside each ``custody.issued`` / ``custody.returned`` payload. This
partial expression index holds (officer, position) for those two entry types
only, so the page reads its rows newest first without scanning the agency's
custody entries, and registrations (bulk imports) add nothing to it. The
expression is the one ``storage.web_queries.officer_custody`` writes, per
dialect (a test checks that the planner reads the page through this index).
"""

from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


OFFICER = {
    "sqlite": "json_extract(payload, '$.officer_id')",
    "postgresql": "((payload::jsonb) ->> 'officer_id')",
}


def upgrade() -> None:
    officer = OFFICER[op.get_bind().dialect.name]
    op.execute(f"CREATE INDEX ix_events_custody_officer ON events ({officer}, position) "
               "WHERE type IN ('custody.issued', 'custody.returned')")


def downgrade() -> None:
    op.execute("DROP INDEX ix_events_custody_officer")
