"""The arithmetic of the audit chain, with no database: canonical text, entry hashes, digests of tied rows.

Shared by the writer (app/trust/audit.py), `db check` (app/integrity.py) and migration 0004, so all three hash
exactly the same bytes."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

GENESIS = "0" * 64
"""The `prev_hash` of a branch's first entry."""

SALE_COLUMNS = (
    "id",
    "kind",
    "member_id",
    "branch_id",
    "receipt_no",
    "sold_at",
    "total_fen",
    "points_used",
    "points_value_fen",
    "coupon_discount_fen",
    "paid_fen",
    "points_earned",
    "original_sale_id",
)
LEDGER_COLUMNS = (
    "id",
    "idempotency_key",
    "member_id",
    "branch_id",
    "source",
    "delta",
    "balance_after",
    "sale_id",
)
COUPON_LEDGER_COLUMNS = ("id", "idempotency_key", "coupon_id", "action", "sale_id", "branch_id")
TIME_COLUMNS = frozenset({"sold_at"})
TIED_COLUMNS: dict[str, tuple[str, ...]] = {
    "sales": SALE_COLUMNS,
    "points_ledger": LEDGER_COLUMNS,
    "coupon_ledger": COUPON_LEDGER_COLUMNS,
}
"""The tables whose every row must be written under an audit entry, and the columns that entry vouches for."""


def utc_text(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return utc_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain)


def plain_details(details: dict[str, Any] | None) -> dict[str, Any]:
    """Details as the JSON column gives them back (dates as text, tuples as lists), so the hash survives a reload."""
    loaded: dict[str, Any] = json.loads(canonical(details or {}))
    return loaded


def entry_hash(
    prev_hash: str,
    seq: int,
    branch_id: int | None,
    staff_id: int | None,
    created_at: dt.datetime,
    action: str,
    entity: str,
    entity_id: str | None,
    details: dict[str, Any],
) -> str:
    text = canonical([prev_hash, seq, branch_id, staff_id, utc_text(created_at), action, entity, entity_id, details])
    return hashlib.sha256(text.encode()).hexdigest()


class RowDigest:
    """A digest of one table's rows in id order: what an audit entry records of the sales and ledger rows it wrote.

    Rows are encoded as their values' text joined by control characters (a JSON encoding cost `db check` ~10× more
    per row); times as UTC ISO text, NULL as a NUL, enums as their value."""

    def __init__(self, table: str) -> None:
        self._hash = hashlib.sha256()
        self._times = [i for i, c in enumerate(TIED_COLUMNS[table]) if c in TIME_COLUMNS]
        self.count = 0

    def add(self, row: Sequence[Any]) -> None:
        values = list(row)
        for i in self._times:
            if values[i] is not None:
                values[i] = values[i].astimezone(dt.UTC).isoformat(timespec="microseconds")
        self._hash.update("\x1f".join(["\x00" if v is None else str(v) for v in values]).encode())
        self._hash.update(b"\x1e")
        self.count += 1

    def add_all(self, rows: Iterable[Sequence[Any]]) -> RowDigest:
        for row in rows:
            self.add(row)
        return self

    def summary(self) -> list[Any]:
        """[count, digest] as kept in the entry's details under "rows"."""
        return [self.count, self._hash.hexdigest()[:32]]
