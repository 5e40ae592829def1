"""member histories: one short row per member with purchases, what the segment refresh needs of their history

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29 21:00:00

Filled here from the monthly totals when the store has them (db/member_histories.py, the same code the purchase
path and `db check` use); a store whose totals were never counted gets both from its first segment refresh.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db import member_histories

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOTALS_BUILT = "insights.month_totals_built"


def upgrade() -> None:
    op.create_table(
        "member_histories",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("head", sa.LargeBinary(), nullable=False),
        sa.Column("months", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_member_histories_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_member_histories")),
    )
    conn = op.get_bind()
    built = conn.execute(sa.text("SELECT 1 FROM settings WHERE key = :key"), {"key": TOTALS_BUILT}).first()
    if built is not None:
        member_histories.write_all(conn)


def downgrade() -> None:
    op.drop_table("member_histories")
