"""ledger: Merkle tree nodes, signed checkpoints and witness cosignatures

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 09:00:00

Written by hand. A deployment upgraded from 0001 already has events, so the tree is
built over them here (in batches, holding only the tree's right edge in memory) and
the next append extends it. Checkpoints start empty: the next one is signed by
`resguardo ledger checkpoint` or automatically.
"""

import json

import sqlalchemy as sa
from alembic import op

from resguardo.ledger import MemoryNodeStore, append_leaves, canonical_json, leaf_hash
from resguardo.ledger.tree import root_node_keys

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_BATCH = 5000
_COLUMNS = ("position", "type", "at", "actor_id", "actor", "org_id", "subject_type",
            "subject_id", "corrects", "reason", "request_id", "payload")


def upgrade() -> None:
    op.create_table(
        'merkle_nodes',
        sa.Column('level', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('idx', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint('level', 'idx', name=op.f('pk_merkle_nodes')),
        sqlite_with_rowid=False,
    )
    op.create_table(
        'checkpoints',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('root', sa.LargeBinary(length=32), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('created_at', sa.String(length=27), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_checkpoints')),
    )
    with op.batch_alter_table('checkpoints', schema=None) as batch_op:
        batch_op.create_index('ix_checkpoints_size', ['size'], unique=False)
    op.create_table(
        'cosignatures',
        sa.Column('checkpoint_id', sa.Integer(), nullable=False),
        sa.Column('witness', sa.String(length=200), nullable=False),
        sa.Column('vkey', sa.String(length=300), nullable=False),
        sa.Column('line', sa.Text(), nullable=False),
        sa.Column('timestamp', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['checkpoint_id'], ['checkpoints.id'],
                                name=op.f('fk_cosignatures_checkpoint_id_checkpoints')),
        sa.PrimaryKeyConstraint('checkpoint_id', 'witness', name=op.f('pk_cosignatures')),
    )
    _build_tree_over_existing_events()


def _leaf(row: sa.Row) -> bytes:
    # The leaf as resguardo.domain.events.Event.leaf() defines it: RFC 8785 JSON of
    # every stored column, the payload as an object.
    document = dict(zip(_COLUMNS, row, strict=True))
    document["payload"] = json.loads(document["payload"])
    return canonical_json(document)


def _build_tree_over_existing_events() -> None:
    conn = op.get_bind()
    head = conn.execute(sa.text("SELECT size FROM log_head WHERE id = 1")).scalar()
    if not head:
        return
    select = sa.text(f"SELECT {', '.join(_COLUMNS)} FROM events "
                     "WHERE position >= :lo AND position < :hi ORDER BY position")
    insert = sa.text("INSERT INTO merkle_nodes (level, idx, hash) VALUES (:level, :idx, :hash)")
    frontier = MemoryNodeStore()
    size = 0
    while size < head:
        rows = conn.execute(select, {"lo": size, "hi": min(size + _BATCH, head)}).all()
        positions = [row[0] for row in rows]
        if positions != list(range(size, size + len(positions))) or not rows:
            raise RuntimeError(f"events are not contiguous from position {size}: "
                               "the log was altered; restore it before upgrading")
        nodes = append_leaves(frontier, size, [leaf_hash(_leaf(row)) for row in rows])
        conn.execute(insert, [{"level": lv, "idx": ix, "hash": h} for lv, ix, h in nodes])
        size += len(rows)
        known = {(lv, ix): h for lv, ix, h in nodes}
        known.update(frontier.get_many(root_node_keys(size)))
        frontier = MemoryNodeStore({key: known[key] for key in root_node_keys(size)})


def downgrade() -> None:
    op.drop_table('cosignatures')
    with op.batch_alter_table('checkpoints', schema=None) as batch_op:
        batch_op.drop_index('ix_checkpoints_size')
    op.drop_table('checkpoints')
    op.drop_table('merkle_nodes')
