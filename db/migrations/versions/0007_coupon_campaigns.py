"""coupon campaigns: kinds, targets, branches, exclusions, print counts

Revision ID: 0007
Revises: 0003
Create Date: 2026-11-29 11:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("coupon_campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_discount_fen", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("points_multiplier_pct", sa.Integer(), server_default="100", nullable=False)
        )
        batch_op.add_column(sa.Column("gift_name", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column("target", sa.String(length=20), server_default="all_members", nullable=False)
        )
        batch_op.add_column(sa.Column("tier_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("branch_ids", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("excluded_categories", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("automatic", sa.String(length=40), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_coupon_campaigns_tier_id_tiers"), "tiers", ["tier_id"], ["id"]
        )
    op.execute("UPDATE coupon_campaigns SET status = 'ended' WHERE status = 'closed'")
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("print_count", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.drop_column("print_count")
    op.execute("UPDATE coupon_campaigns SET status = 'closed' WHERE status = 'ended'")
    with op.batch_alter_table("coupon_campaigns", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_coupon_campaigns_tier_id_tiers"), type_="foreignkey")
        batch_op.drop_column("automatic")
        batch_op.drop_column("excluded_categories")
        batch_op.drop_column("branch_ids")
        batch_op.drop_column("tier_id")
        batch_op.drop_column("target")
        batch_op.drop_column("gift_name")
        batch_op.drop_column("points_multiplier_pct")
        batch_op.drop_column("max_discount_fen")
