"""day totals: sales per branch per day and per category per day, and the indexes the dashboard reads

Revision ID: 0008
Revises: 0004
Create Date: 2026-11-29 15:00:00

The new tables are filled from the existing sales here (db/day_totals.py, the same code `db check` compares with),
in the store's time zone (the `store.timezone` setting, else China's).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from alembic import op

from db import day_totals

revision: str = "0008"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_TIMEZONE = "Asia/Shanghai"


def _store_timezone(conn: sa.Connection) -> str:
    value = conn.execute(sa.text("SELECT value FROM settings WHERE key = 'store.timezone'")).scalar()
    if isinstance(value, str) and value.startswith('"'):
        value = json.loads(value)
    try:
        ZoneInfo(value)
    except (TypeError, ValueError, ZoneInfoNotFoundError):
        return DEFAULT_TIMEZONE
    return str(value)


def upgrade() -> None:
    op.create_table(
        "sales_day_totals",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("sales", sa.Integer(), nullable=False),
        sa.Column("sales_fen", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("member_sales", sa.Integer(), nullable=False),
        sa.Column("member_sales_fen", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("returns", sa.Integer(), nullable=False),
        sa.Column("returns_fen", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("member_returns_fen", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("coupons_redeemed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"], name=op.f("fk_sales_day_totals_branch_id_branches")),
        sa.PrimaryKeyConstraint("day", "branch_id", "staff_id", name=op.f("pk_sales_day_totals")),
    )
    op.create_table(
        "category_day_totals",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_category_day_totals_branch_id_branches")
        ),
        sa.PrimaryKeyConstraint("day", "branch_id", "category_id", name=op.f("pk_category_day_totals")),
    )
    op.create_index(op.f("ix_members_joined_at"), "members", ["joined_at"], unique=False)
    op.create_index("ix_points_ledger_day_figures", "points_ledger", ["created_at", "source", "delta"], unique=False)
    conn = op.get_bind()
    day_totals.rebuild(conn, _store_timezone(conn))


def downgrade() -> None:
    op.drop_index("ix_points_ledger_day_figures", table_name="points_ledger")
    op.drop_index(op.f("ix_members_joined_at"), table_name="members")
    op.drop_table("category_day_totals")
    op.drop_table("sales_day_totals")
