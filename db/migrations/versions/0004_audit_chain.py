"""audit log hash-chained per branch; sales, points-ledger and coupon-ledger rows tied to their audit entry

Revision ID: 0004
Revises: 0010
Create Date: 2026-11-29 12:00:00

Existing entries are chained in id order, branch by branch; existing sales, points-ledger and coupon-ledger rows are tied to one entry
("migrate") that records their digest, so `db check` vouches for them from here on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import db.base
from app.trust.chain import GENESIS, TIED_COLUMNS, RowDigest, entry_hash, plain_details

revision: str = '0004'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_audit = sa.table(
    'audit_log',
    sa.column('id', sa.Integer),
    sa.column('created_at', db.base.UTCDateTime()),
    sa.column('staff_id', sa.Integer),
    sa.column('branch_id', sa.Integer),
    sa.column('action', sa.String),
    sa.column('entity', sa.String),
    sa.column('entity_id', sa.String),
    sa.column('details', sa.JSON),
    sa.column('seq', sa.BigInteger),
    sa.column('prev_hash', sa.String),
    sa.column('row_hash', sa.String),
)
_heads = sa.table('audit_heads', sa.column('branch_id', sa.Integer), sa.column('seq', sa.BigInteger),
                  sa.column('row_hash', sa.String))
_TYPES: dict[str, Any] = {'sold_at': db.base.UTCDateTime()}


def _tied_table(name: str) -> Any:
    return sa.table(name, sa.column('audit_id', sa.Integer),
                    *[sa.column(c, _TYPES.get(c, sa.String() if c in {'kind', 'source', 'receipt_no',
                                                                        'idempotency_key', 'action'} else sa.BigInteger()))
                      for c in TIED_COLUMNS[name]])


def _chain_existing(conn: sa.Connection) -> None:
    heads: dict[int, tuple[int, str]] = {}
    rows = conn.execute(sa.select(_audit).order_by(_audit.c.id)).all()
    for row in rows:
        chain = row.branch_id or 0
        seq, prev = heads.get(chain, (0, GENESIS))
        seq += 1
        details = plain_details(row.details)
        digest = entry_hash(prev, seq, row.branch_id, row.staff_id, row.created_at, row.action, row.entity,
                            row.entity_id, details)
        conn.execute(_audit.update().where(_audit.c.id == row.id)
                     .values(seq=seq, prev_hash=prev, row_hash=digest, details=details))
        heads[chain] = (seq, digest)
    tables = {name: _tied_table(name) for name in TIED_COLUMNS}
    summaries: dict[str, list[Any]] = {}
    for name, table in tables.items():
        digest_rows = RowDigest(name).add_all(
            conn.execute(sa.select(*[table.c[c] for c in TIED_COLUMNS[name]]).order_by(table.c.id)))
        if digest_rows.count:
            summaries[name] = digest_rows.summary()
    if summaries:
        branch = conn.scalar(sa.text('SELECT MIN(id) FROM branches'))
        chain = branch or 0
        seq, prev = heads.get(chain, (0, GENESIS))
        seq += 1
        at = db.base.utcnow()
        details = {'rows': summaries}
        digest = entry_hash(prev, seq, branch, None, at, 'migrate', 'store', None, details)
        audit_id = conn.execute(_audit.insert().values(
            created_at=at, staff_id=None, branch_id=branch, action='migrate', entity='store', entity_id=None,
            details=details, seq=seq, prev_hash=prev, row_hash=digest).returning(_audit.c.id)).scalar_one()
        for table in tables.values():
            conn.execute(table.update().values(audit_id=audit_id))
        heads[chain] = (seq, digest)
    for chain, (seq, digest) in heads.items():
        conn.execute(_heads.insert().values(branch_id=chain, seq=seq, row_hash=digest))


def upgrade() -> None:
    op.create_table('audit_heads',
    sa.Column('branch_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('row_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('branch_id', name=op.f('pk_audit_heads'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('row_hash', sa.String(length=64), nullable=True))
    with op.batch_alter_table('points_ledger', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audit_id', sa.Integer(), nullable=True))
    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audit_id', sa.Integer(), nullable=True))
    with op.batch_alter_table('coupon_ledger', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audit_id', sa.Integer(), nullable=True))

    _chain_existing(op.get_bind())

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('row_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index('ix_audit_log_branch_seq', ['branch_id', 'seq'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('coupon_ledger', schema=None) as batch_op:
        batch_op.drop_column('audit_id')
    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.drop_column('audit_id')
    with op.batch_alter_table('points_ledger', schema=None) as batch_op:
        batch_op.drop_column('audit_id')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_branch_seq')
        batch_op.drop_column('row_hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')
    op.drop_table('audit_heads')
