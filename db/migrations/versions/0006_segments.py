"""segments: per-member monthly totals, per-member segment results, segment runs, saved segments

Revision ID: 0006
Revises: 0002
Create Date: 2026-11-29 12:00:00

The monthly totals of an existing store are filled from its sales by its first segment refresh (the GUI's daily
maintenance runs one at start; `main.py segments` too), with the same code that recounts them after a return
(app/insights/aggregates.py `ensure_month_totals`).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0006"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "member_month_totals",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("spend_fen", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("sales", sa.Integer(), nullable=False),
        sa.Column("days_mask", sa.Integer(), nullable=False),
        sa.Column("first_day_spend_fen", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_member_month_totals_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "month", name=op.f("pk_member_month_totals")),
    )
    op.create_table(
        "member_segments",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("recency_days", sa.Integer(), nullable=True),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("monetary_fen", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("r_score", sa.Integer(), nullable=False),
        sa.Column("f_score", sa.Integer(), nullable=False),
        sa.Column("m_score", sa.Integer(), nullable=False),
        sa.Column("rfm_class", sa.String(length=20), nullable=True),
        sa.Column("pyramid_level", sa.String(length=20), nullable=False),
        sa.Column("lifecycle_stage", sa.String(length=20), nullable=False),
        sa.Column("p_alive_permille", sa.Integer(), nullable=True),
        sa.Column("expected_purchases_milli", sa.Integer(), nullable=True),
        sa.Column("expected_spend_per_purchase_fen", sa.BigInteger(), nullable=True),
        sa.Column("value_over_horizon_fen", sa.BigInteger(), nullable=True),
        sa.Column("churn_warning", sa.Boolean(), nullable=False),
        sa.Column("model", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_segments_member_id_members"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_member_segments")),
    )
    op.create_table(
        "segment_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=20), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_runs")),
    )
    op.create_table(
        "saved_segments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["staff.id"], name=op.f("fk_saved_segments_created_by_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_segments")),
        sa.UniqueConstraint("name", name=op.f("uq_saved_segments_name")),
    )


def downgrade() -> None:
    op.drop_table("saved_segments")
    op.drop_table("segment_runs")
    op.drop_table("member_segments")
    op.drop_table("member_month_totals")
