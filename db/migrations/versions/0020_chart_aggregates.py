"""chart aggregates: members' spend per branch and month with its packs (the Pareto curve), segment counts per
home branch, members by branch and tier

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-29 21:00:00

The new table is filled from the existing sales here (db/spend_months.py, the same code `db check` compares with),
in the store's time zone (the `store.timezone` setting, else China's), and every month is packed. The index on
(home_branch_id, tier_id) replaces the plain home_branch_id one (the tier chart of a branch reads it alone). The
segment counts per branch start with the next refresh (until then the charts count them from the members).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from alembic import op

from db import spend_months

revision: str = "0020"
down_revision: str | None = "0019"
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
        "member_branch_months",
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("spend_fen", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("since_pack", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_member_branch_months_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_member_branch_months_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("month", "branch_id", "member_id", name=op.f("pk_member_branch_months")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_member_branch_months_member", "member_branch_months", ["member_id"], unique=False)
    op.create_index(
        "ix_member_branch_months_since_pack",
        "member_branch_months",
        ["month", "branch_id", "member_id", "spend_fen"],
        unique=False,
        sqlite_where=sa.text("since_pack = true"),
        postgresql_where=sa.text("since_pack = true"),
    )
    op.create_table(
        "spend_packs",
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("member_ids", sa.LargeBinary(), nullable=False),
        sa.Column("spend_fen", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"], name=op.f("fk_spend_packs_branch_id_branches")),
        sa.PrimaryKeyConstraint("month", "branch_id", name=op.f("pk_spend_packs")),
    )
    op.create_table(
        "segment_branch_counts",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("chart", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["segment_runs.id"],
            name=op.f("fk_segment_branch_counts_run_id_segment_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "branch_id", "chart", "code", name=op.f("pk_segment_branch_counts")),
    )
    with op.batch_alter_table("members") as batch_op:
        batch_op.drop_index("ix_members_home_branch_id")
        batch_op.create_index("ix_members_branch_tier", ["home_branch_id", "tier_id"], unique=False)
    conn = op.get_bind()
    spend_months.rebuild(conn, _store_timezone(conn))


def downgrade() -> None:
    with op.batch_alter_table("members") as batch_op:
        batch_op.drop_index("ix_members_branch_tier")
        batch_op.create_index("ix_members_home_branch_id", ["home_branch_id"], unique=False)
    op.drop_table("segment_branch_counts")
    op.drop_table("spend_packs")
    op.drop_index(
        "ix_member_branch_months_since_pack",
        table_name="member_branch_months",
        sqlite_where=sa.text("since_pack = true"),
        postgresql_where=sa.text("since_pack = true"),
    )
    op.drop_index("ix_member_branch_months_member", table_name="member_branch_months")
    op.drop_table("member_branch_months")
