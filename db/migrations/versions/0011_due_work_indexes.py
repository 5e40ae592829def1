"""work found by index: open points lots by expiry (replacing the plain expires_at index), members by review date,
anonymised members (counted apart by the member list)

Revision ID: 0011
Revises: 0009
Create Date: 2026-11-29 15:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "remaining > 0"
ANONYMISED = "status = 'anonymised'"


def upgrade() -> None:
    with op.batch_alter_table("points_lots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_points_lots_expires_at"))
        batch_op.create_index(
            "ix_points_lots_due",
            ["expires_at", "member_id"],
            unique=False,
            sqlite_where=sa.text(OPEN),
            postgresql_where=sa.text(OPEN),
        )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_members_tier_review_at"), ["tier_review_at"], unique=False)
        batch_op.create_index(
            "ix_members_anonymised",
            ["id"],
            unique=False,
            sqlite_where=sa.text(ANONYMISED),
            postgresql_where=sa.text(ANONYMISED),
        )


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_members_anonymised", sqlite_where=sa.text(ANONYMISED), postgresql_where=sa.text(ANONYMISED)
        )
        batch_op.drop_index(batch_op.f("ix_members_tier_review_at"))
    with op.batch_alter_table("points_lots", schema=None) as batch_op:
        batch_op.drop_index("ix_points_lots_due", sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
        batch_op.create_index(batch_op.f("ix_points_lots_expires_at"), ["expires_at"], unique=False)
