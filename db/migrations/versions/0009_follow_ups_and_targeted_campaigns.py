"""follow-ups: reason, channel, note, set keys; campaigns targeted at a saved segment or a set of members

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("follow_up_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.String(length=20), server_default="custom", nullable=False))
        batch_op.add_column(sa.Column("channel", sa.String(length=20), server_default="phone", nullable=False))
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=80), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_follow_up_tasks_idempotency_key"), ["idempotency_key"])
    op.execute("UPDATE follow_up_tasks SET reason = 'complaint' WHERE complaint_id IS NOT NULL")
    with op.batch_alter_table("coupon_campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("saved_segment_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=80), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_coupon_campaigns_idempotency_key"), ["idempotency_key"])
        batch_op.create_foreign_key(
            batch_op.f("fk_coupon_campaigns_saved_segment_id_saved_segments"),
            "saved_segments",
            ["saved_segment_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("coupon_campaigns", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_coupon_campaigns_saved_segment_id_saved_segments"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_coupon_campaigns_idempotency_key"), type_="unique")
        batch_op.drop_column("idempotency_key")
        batch_op.drop_column("saved_segment_id")
    op.execute("UPDATE coupon_campaigns SET target = 'chosen_members' WHERE target = 'saved_segment'")
    with op.batch_alter_table("follow_up_tasks", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_follow_up_tasks_idempotency_key"), type_="unique")
        batch_op.drop_column("idempotency_key")
        batch_op.drop_column("note")
        batch_op.drop_column("channel")
        batch_op.drop_column("reason")
