"""points day totals: the points posted per branch, per day of the store's time zone and per kind, up to a ledger id;
members by joining day with referrer and home branch (replacing the plain joined_at index); the open lots' due-date
index with the points remaining (the expiring-points count from the index alone)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 18:00:00

The table is filled from the existing ledger here (db/points_totals.py, the same code `db check` compares with), in
the store's time zone (the `store.timezone` setting, else China's).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from alembic import op

from db import points_totals

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_TIMEZONE = "Asia/Shanghai"
OPEN = "remaining > 0"


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
        "points_day_totals",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Integer(), nullable=False),
        sa.Column("points", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"], name=op.f("fk_points_day_totals_branch_id_branches")),
        sa.PrimaryKeyConstraint("day", "branch_id", "kind", name=op.f("pk_points_day_totals")),
    )
    op.create_table(
        "points_day_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counted_to", sa.BigInteger(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_day_marks")),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_members_joined_at"))
        batch_op.create_index("ix_members_joined", ["joined_at", "referrer_id", "home_branch_id"], unique=False)
    with op.batch_alter_table("points_lots", schema=None) as batch_op:
        batch_op.drop_index("ix_points_lots_due", sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
        batch_op.create_index(
            "ix_points_lots_due",
            ["expires_at", "member_id", "remaining"],
            unique=False,
            sqlite_where=sa.text(OPEN),
            postgresql_where=sa.text(OPEN),
        )
    conn = op.get_bind()
    points_totals.rebuild(conn, _store_timezone(conn))


def downgrade() -> None:
    with op.batch_alter_table("points_lots", schema=None) as batch_op:
        batch_op.drop_index("ix_points_lots_due", sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
        batch_op.create_index(
            "ix_points_lots_due",
            ["expires_at", "member_id"],
            unique=False,
            sqlite_where=sa.text(OPEN),
            postgresql_where=sa.text(OPEN),
        )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index("ix_members_joined")
        batch_op.create_index(batch_op.f("ix_members_joined_at"), ["joined_at"], unique=False)
    op.drop_table("points_day_marks")
    op.drop_table("points_day_totals")
