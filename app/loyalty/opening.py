"""Opening balances: the points members bring when a store moves in, posted through the book in bulk."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

from sqlalchemy import Connection

from app.loyalty.book import Account
from app.security.operator import Operator
from db.bulk import DriverValues, bulk_insert, select_in
from db.enums import LedgerSource

OPENING_REASON = "opening balance from import"
_LEDGER_COLUMNS = (
    "client_uuid",
    "idempotency_key",
    "member_id",
    "branch_id",
    "staff_id",
    "source",
    "delta",
    "balance_after",
    "reason",
    "created_at",
)
_LOT_COLUMNS = ("member_id", "ledger_id", "earned_at", "expires_at", "points", "remaining")


def post_opening_balances(
    conn: Connection,
    operator: Operator,
    opening: Sequence[tuple[int, int]],
    at: dt.datetime,
    expires_at: dt.datetime | None,
    uuids: Iterator[str],
) -> None:
    """For each (new member id, points): an import ledger row and the lot the book makes of it, written straight
    through the driver (a million members bring their points in seconds). The members are new, so each account
    opens at zero; the idempotency key `import:{member id}` keeps a member from being opened twice."""
    if not opening:
        return
    convert = DriverValues(sqlite=conn.dialect.name == "sqlite")
    when, source = convert(at), convert(LedgerSource.IMPORT)
    expires = convert(expires_at) if expires_at is not None else None
    branch, staff = operator.branch_id, operator.staff_id
    ledger: list[tuple[object, ...]] = []
    lot_points: dict[str, int] = {}
    for member_id, points in opening:
        movement = Account[dt.datetime]().post(points)
        key = f"import:{member_id}"
        ledger.append(
            (next(uuids), key, member_id, branch, staff, source, points, movement.balance_after, OPENING_REASON, when)
        )
        lot_points[key] = movement.new_lot_points
    bulk_insert(conn, "points_ledger", _LEDGER_COLUMNS, ledger)
    entries = select_in(
        conn,
        "SELECT id, member_id, idempotency_key FROM points_ledger WHERE idempotency_key IN ({values})",
        [*lot_points],
    )
    bulk_insert(
        conn,
        "points_lots",
        _LOT_COLUMNS,
        [
            (member_id, entry_id, when, expires, lot_points[key], lot_points[key])
            for entry_id, member_id, key in entries
            if lot_points[key]
        ],
    )
