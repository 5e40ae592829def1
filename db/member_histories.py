"""One short row per member with purchases (`member_histories`): what the segment refresh needs of their history,
packed, so a refresh reads a million short rows instead of every month of every member.

A row is made from the member's monthly totals (`member_month_totals`, kept with every purchase and return) and is
written again from them whenever they change: the purchase path, returns, imports and the demo call `write`
(through app/insights/aggregates.py); `db check` compares every row with the totals counted from the sales.

`head` (HEAD, 37 bytes, little-endian): member id; first purchase day (days since 1970-01-01 in the store's time
zone); the head month, the latest month with a purchase (year * 12 + month - 1); how many months follow in
`months`; purchase days, last purchase day (-1: none) and spend of the months more than WINDOW months before the
head month; spend of the first purchase day; spend before the window.
`months` (MONTH, 13 bytes each, newest first): for each month of the window with a purchase, how many months it
lies before the head month, its day bits (bit d-1: bought on day d) and its spend.
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, bindparam, text

from db.later import later

WINDOW = 36
"""Months kept month by month, counted back from the head month: the longest segment period (36 months) and the
24 months the lifecycle's month ends look back both fit, whatever month the as-of day falls in."""
HEAD = struct.Struct("<iiiBiiqq")
MONTH = struct.Struct("<BIq")
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
CHUNK = 500

MonthRow = tuple[int, int, int, int]
"""(month key YYYYMM, spend, day bits, spend of the month's first purchase day), as member_month_totals holds it."""


def month_index(key: int) -> int:
    return (key // 100) * 12 + key % 100 - 1


def _month_start_day(index: int) -> int:
    return dt.date(index // 12, index % 12 + 1, 1).toordinal() - EPOCH_ORDINAL


def pack(member_id: int, months: Sequence[MonthRow]) -> tuple[bytes, bytes] | None:
    """A member's row from their monthly totals (ordered by month; months without a purchase are skipped); None
    when they have no purchase."""
    rows = [row for row in months if row[2]]
    if not rows:
        return None
    head = month_index(rows[-1][0])
    first_key, _spend, first_mask, first_spend = rows[0]
    first_day = _month_start_day(month_index(first_key)) + (first_mask & -first_mask).bit_length() - 1
    days_before = spend_before = 0
    last_before = -1
    kept: list[bytes] = []
    for key, spend, mask, _first in reversed(rows):
        back = head - month_index(key)
        if back < WINDOW:
            kept.append(MONTH.pack(back, mask, spend))
            continue
        days_before += mask.bit_count()
        spend_before += spend
        last_before = max(last_before, _month_start_day(month_index(key)) + mask.bit_length() - 1)
    header = HEAD.pack(member_id, first_day, head, len(kept), days_before, last_before, first_spend, spend_before)
    return header, b"".join(kept)


def _grouped(rows: Iterable[tuple[int, int, int, int, int]]) -> Iterable[tuple[int, list[MonthRow]]]:
    member: int | None = None
    months: list[MonthRow] = []
    for member_id, key, spend, mask, first in rows:
        if member_id != member:
            if member is not None:
                yield member, months
            member, months = member_id, []
        months.append((key, spend, mask, first))
    if member is not None:
        yield member, months


def expected(rows: Iterable[tuple[int, int, int, int, int]]) -> dict[int, tuple[bytes, bytes]]:
    """Every member's row from monthly totals (member id, month key, spend, day bits, first day's spend), ordered
    by member and month."""
    found: dict[int, tuple[bytes, bytes]] = {}
    for member_id, months in _grouped(rows):
        packed = pack(member_id, months)
        if packed is not None:
            found[member_id] = packed
    return found


_TOTALS = """SELECT member_id, month, spend_fen, days_mask, first_day_spend_fen FROM member_month_totals
             WHERE days_mask != 0{where} ORDER BY member_id, month"""
_INSERT = text("INSERT INTO member_histories (member_id, head, months) VALUES (:member_id, :head, :months)")


def _insert(conn: Connection, rows: dict[int, tuple[bytes, bytes]]) -> None:
    if rows:
        conn.execute(_INSERT, [{"member_id": m, "head": h, "months": ms} for m, (h, ms) in rows.items()])


_SOME_TOTALS = text(_TOTALS.format(where=" AND member_id IN :members")).bindparams(bindparam("members", expanding=True))
_REMOVE = text("DELETE FROM member_histories WHERE member_id IN :members").bindparams(
    bindparam("members", expanding=True)
)


def write(conn: Connection, member_ids: Iterable[int]) -> None:
    """These members' rows made again from their monthly totals (in the caller's transaction)."""
    ids = sorted(set(member_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        rows = expected(conn.execute(_SOME_TOTALS, {"members": chunk}))
        conn.execute(_REMOVE, {"members": chunk})
        _insert(conn, rows)


_UPSERT = (
    "INSERT INTO member_histories (member_id, head, months) VALUES ({p}, {p}, {p})"
    " ON CONFLICT (member_id) DO UPDATE SET head = excluded.head, months = excluded.months"
)


def write_one(conn: Connection, member_id: int, months: Sequence[MonthRow]) -> None:
    """A member's row made again from their months (ordered by month), which the caller has just read: a purchase
    (app.insights.aggregates.add_sale), whose month has a purchase day, so the member has a row. A write nobody
    waits on (`db.later`)."""
    packed = pack(member_id, months)
    assert packed is not None, "a purchase's month has a purchase day"
    later(conn, _UPSERT, (member_id, *packed))


def write_all(conn: Connection) -> None:
    """Every member's row made again from the monthly totals."""
    conn.execute(text("DELETE FROM member_histories"))
    batch: dict[int, tuple[bytes, bytes]] = {}
    for member_id, months in _grouped(conn.execute(text(_TOTALS.format(where="")))):
        packed = pack(member_id, months)
        if packed is not None:
            batch[member_id] = packed
        if len(batch) >= 20_000:
            _insert(conn, batch)
            batch = {}
    _insert(conn, batch)


def differences(conn: Connection, months: dict[int, list[MonthRow]]) -> set[int]:
    """The members whose stored row differs from the one their monthly totals `months` (member id -> months in
    order) make."""
    stored = {
        int(member_id): (bytes(head), bytes(packed))
        for member_id, head, packed in conn.execute(text("SELECT member_id, head, months FROM member_histories"))
    }
    made = {m: p for m, rows in months.items() if (p := pack(m, rows)) is not None}
    differing = stored.keys() ^ made.keys()
    differing |= {m for m in stored.keys() & made.keys() if stored[m] != made[m]}
    return differing
