"""pin guards: wrong PINs in a row per account and per approval

Revision ID: 0003
Revises: 0005
Create Date: 2026-11-29 11:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0003"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pin_guards",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", db.base.UTCDateTime(), nullable=True),
        sa.Column("last_failed_at", db.base.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_pin_guards")),
    )


def downgrade() -> None:
    op.drop_table("pin_guards")
