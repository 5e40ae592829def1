"""Opening balances: the points members bring when a store moves in, posted through the book in bulk."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

from sqlalchemy import Connection

from app.loyalty.book import Account, Movement
from app.security.operator import Operator
from db.bulk import DriverValues, bulk_insert, select_in
from db.enums import LedgerSource

OPENING_REASON = "opening balance from import"
_LEDGER_COLUMNS = ("client_uuid", "idempotency_key", "member_id", "delta", "balance_after")
_LOT_COLUMNS = ("member_id", "ledger_id", "points", "remaining")


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
    when = convert(at)
    expires = convert(expires_at) if expires_at is not None else None
    same = {
        "branch_id": operator.branch_id,
        "staff_id": operator.staff_id,
        "source": convert(LedgerSource.IMPORT),
        "reason": OPENING_REASON,
        "created_at": when,
    }
    movements: dict[int, Movement[dt.datetime]] = {}  # every account opens at zero: one posting per amount
    ledger: list[tuple[object, ...]] = []
    for member_id, points in opening:
        movement = movements.get(points)
        if movement is None:
            movement = movements[points] = Account[dt.datetime]().post(points)
        ledger.append((next(uuids), f"import:{member_id}", member_id, points, movement.balance_after))
    before = _last_ledger_id(conn)
    bulk_insert(conn, "points_ledger", _LEDGER_COLUMNS, ledger, same=same)
    bulk_insert(
        conn,
        "points_lots",
        _LOT_COLUMNS,
        [
            (member_id, entry_id, movements[points].new_lot_points, movements[points].new_lot_points)
            for entry_id, (member_id, points) in zip(_ledger_ids(conn, before, ledger), opening, strict=True)
            if movements[points].new_lot_points
        ],
        same={"earned_at": when, "expires_at": expires},
    )


def _last_ledger_id(conn: Connection) -> int:
    return int(conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM points_ledger").scalar_one())


def _ledger_ids(conn: Connection, before: int, ledger: list[tuple[object, ...]]) -> list[int]:
    """The ids of the ledger rows just inserted, in order. When the highest id grew by exactly their count, they
    took the ids after it one by one (as the imported members' do, app/importing/member_store.py); otherwise they
    are looked up by idempotency key."""
    after = _last_ledger_id(conn)
    if after - before == len(ledger):
        return list(range(before + 1, after + 1))
    keys = [row[1] for row in ledger]
    id_of = dict(
        select_in(conn, "SELECT idempotency_key, id FROM points_ledger WHERE idempotency_key IN ({values})", keys)
    )
    return [id_of[key] for key in keys]
