"""a complaint's resolution can hand the member a coupon: the event names it

Revision ID: 0010
Revises: 0007
Create Date: 2026-11-29 15:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("complaint_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("coupon_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_complaint_events_coupon_id_coupons"), "coupons", ["coupon_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("complaint_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_complaint_events_coupon_id_coupons"), type_="foreignkey")
        batch_op.drop_column("coupon_id")
