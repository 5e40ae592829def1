"""complaint analysis and list read from covering indexes: the period with every dimension, the status, the resolve
and due times; a member's complaints by time (replacing the plain member_id index)

Revision ID: 0014
Revises: 0011
Create Date: 2026-11-29 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ANALYSIS = ["created_at", "status", "resolved_at", "category", "product", "branch_id", "assigned_to_id", "due_at"]


def upgrade() -> None:
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaints_member_id"))
        batch_op.create_index("ix_complaints_member_created", ["member_id", "created_at"], unique=False)
        batch_op.create_index("ix_complaints_analysis", ANALYSIS, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index("ix_complaints_analysis")
        batch_op.drop_index("ix_complaints_member_created")
        batch_op.create_index(batch_op.f("ix_complaints_member_id"), ["member_id"], unique=False)
