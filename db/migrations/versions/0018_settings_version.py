"""the settings' version row: a counter keeps the settings it read until this row changes (app/settings.py)

Revision ID: 0018
Revises: 0015
Create Date: 2026-11-29 18:10:00
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0018"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = "settings.version"
_settings = sa.table(
    "settings",
    sa.column("key", sa.String(80)),
    sa.column("value", sa.JSON()),
    sa.column("updated_at", db.base.UTCDateTime()),
)


def upgrade() -> None:
    conn = op.get_bind()
    if conn.execute(sa.select(_settings.c.key).where(_settings.c.key == KEY)).first() is None:
        conn.execute(sa.insert(_settings).values(key=KEY, value=uuid.uuid4().hex, updated_at=dt.datetime.now(dt.UTC)))


def downgrade() -> None:
    op.get_bind().execute(sa.delete(_settings).where(_settings.c.key == KEY))
