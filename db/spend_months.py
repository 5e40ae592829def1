"""Members' spend per branch and calendar month (`member_branch_months`) and its packed copy (`spend_packs`).

A row holds the spend of a member's sales not returned at one branch in one month of the store's time zone. The
purchase path adds to its row in the same transaction (`add_sale`); a return, an import or a demo recounts the
members it touched from their sales (`recount_members`, `rebuild`). A pack is one month of one branch as two int64
arrays (member ids ascending, their spend), so the Pareto curve reads a dozen blobs instead of a million rows. The
daily catch-up packs the past months (`pack_months`); whatever changes a month of a branch deletes its pack in the
same transaction, and its rows are read until it is packed again, so a pack is never stale. `differences` (run by
`db check`) recounts every row from the sales and compares every pack with its rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, bindparam, delete, insert, select, text, tuple_

from db.bulk import marker
from db.models import Branch, MemberBranchMonth, SpendPack

if TYPE_CHECKING:
    import numpy as np

    Ints = np.ndarray[Any, np.dtype[np.int64]]

CHUNK = 500
INSERT_BATCH = 20_000
LITTLE = "<i8"
"""The packs' numbers: int64, little-endian whatever the machine's (numpy is loaded only where packs are read or
made: the purchase path never needs it)."""


def month_key(day: dt.date) -> int:
    return day.year * 100 + day.month


def previous_month(key: int) -> int:
    return key - 1 if key % 100 > 1 else (key // 100 - 1) * 100 + 12


def months_between(first: int, last: int) -> list[int]:
    """Month keys from `first` to `last`, both included."""
    found = []
    at = first
    while at <= last:
        found.append(at)
        at = at + 1 if at % 100 < 12 else (at // 100 + 1) * 100 + 1
    return found


_UPSERT = text(
    """INSERT INTO member_branch_months (month, branch_id, member_id, spend_fen)
       VALUES (:month, :branch, :member, :total)
       ON CONFLICT (month, branch_id, member_id) DO UPDATE
       SET spend_fen = member_branch_months.spend_fen + excluded.spend_fen"""
)


def _unpack(conn: Connection, pairs: Iterable[tuple[int, int]]) -> None:
    """Delete the packs of these (month, branch) pairs: their rows changed."""
    wanted = sorted(set(pairs))
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        conn.execute(delete(SpendPack).where(tuple_(SpendPack.month, SpendPack.branch_id).in_(chunk)))


def add_sale(
    conn: Connection, member_id: int, branch_id: int, sold_at: dt.datetime, total_fen: int, timezone: str
) -> None:
    """A purchase just written: add it to its month at its branch (and forget that month's pack, if any)."""
    month = month_key(sold_at.astimezone(ZoneInfo(timezone)).date())
    conn.execute(_UPSERT, {"month": month, "branch": branch_id, "member": member_id, "total": total_fen})
    _unpack(conn, [(month, branch_id)])


def _month_sql(conn: Connection, timezone: str) -> tuple[str, dict[str, object]]:
    """SQL for a sale's month key in the store's time zone. SQLite has no time zones: it shifts by the zone's
    offset now, which is exact for zones without summer time (China's), as the members' monthly totals do."""
    if conn.dialect.name == "sqlite":
        offset = dt.datetime.now(ZoneInfo(timezone)).utcoffset() or dt.timedelta()
        shift = f"{int(offset.total_seconds() // 60):+d} minutes"
        return "CAST(strftime('%Y%m', s.sold_at, :shift) AS INTEGER)", {"shift": shift}
    return "CAST(to_char(s.sold_at AT TIME ZONE :tz, 'YYYYMM') AS INTEGER)", {"tz": timezone}


def _counted_sql(conn: Connection, timezone: str, where: str = "") -> tuple[str, dict[str, object]]:
    """SQL for (month, branch_id, member_id, spend) counted from the sales not returned (`where`: more conditions
    on the sale `s`)."""
    month, params = _month_sql(conn, timezone)
    sql = f"""SELECT {month} AS month, s.branch_id, s.member_id, SUM(s.total_fen) AS spend_fen FROM sales s
              WHERE s.kind = 'sale' AND s.member_id IS NOT NULL {where}
                AND NOT EXISTS (SELECT 1 FROM sales r WHERE r.original_sale_id = s.id)
              GROUP BY 1, 2, 3"""
    return sql, params


def _insert(conn: Connection, rows: list[tuple[int, int, int, int]]) -> None:
    for start in range(0, len(rows), INSERT_BATCH):
        conn.execute(
            insert(MemberBranchMonth),
            [
                {"month": m, "branch_id": b, "member_id": i, "spend_fen": s}
                for m, b, i, s in rows[start : start + INSERT_BATCH]
            ],
        )


def recount_members(conn: Connection, member_ids: Iterable[int], timezone: str) -> None:
    """Recount these members' rows from their sales (after a return or a bulk write of sales); the packs of the
    months and branches whose rows changed are deleted."""
    ids = sorted(set(member_ids))
    sql, params = _counted_sql(conn, timezone, "AND s.member_id IN :members")
    statement = text(sql).bindparams(bindparam("members", expanding=True))
    columns = (MemberBranchMonth.month, MemberBranchMonth.branch_id, MemberBranchMonth.member_id)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        old = {
            (int(m), int(b), int(i)): int(s)
            for m, b, i, s in conn.execute(
                select(*columns, MemberBranchMonth.spend_fen).where(MemberBranchMonth.member_id.in_(chunk))
            )
        }
        new = {(int(m), int(b), int(i)): int(s) for m, b, i, s in conn.execute(statement, {**params, "members": chunk})}
        changed = {key for key in old.keys() | new.keys() if old.get(key) != new.get(key)}
        if not changed:
            continue
        conn.execute(delete(MemberBranchMonth).where(MemberBranchMonth.member_id.in_(chunk)))
        _insert(conn, [(*key, spend) for key, spend in sorted(new.items())])
        _unpack(conn, ((m, b) for m, b, _i in changed))


def rebuild(conn: Connection, timezone: str) -> None:
    """Every row counted again from all the sales, and the months before this one packed (a demo, migration 0020,
    a segment recount). "This month" is the computer's: it only decides what is packed, and a pack is right
    whatever the date, since whatever changes its rows deletes it."""
    conn.execute(delete(SpendPack))
    conn.execute(delete(MemberBranchMonth))
    counted, params = _counted_sql(conn, timezone)
    conn.execute(
        text(f"INSERT INTO member_branch_months (month, branch_id, member_id, spend_fen) {counted} ORDER BY 1, 2, 3"),
        params,
    )
    pack_months(conn, dt.datetime.now(ZoneInfo(timezone)).date())


def _rows(conn: Connection, month: int, branch_id: int) -> tuple[Ints, Ints]:
    """A month of a branch from its rows: member ids ascending and their spend."""
    import numpy as np

    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        p = marker(conn)
        cursor.execute(
            f"""SELECT member_id, spend_fen FROM member_branch_months
                WHERE month = {p} AND branch_id = {p} ORDER BY member_id""",
            (month, branch_id),
        )
        found = cursor.fetchall()
    finally:
        cursor.close()
    flat = np.array(found, dtype=np.int64).reshape(-1, 2)
    return np.ascontiguousarray(flat[:, 0]), np.ascontiguousarray(flat[:, 1])


def _branches(conn: Connection) -> list[int]:
    return [int(b) for b in conn.scalars(select(Branch.id).order_by(Branch.id))]


def pack_months(conn: Connection, today: dt.date) -> int:
    """Pack every month before `today`'s that has rows and no pack. Returns how many packs it made."""
    packed = {(int(m), int(b)) for m, b in conn.execute(select(SpendPack.month, SpendPack.branch_id))}
    current = month_key(today)
    first = conn.scalar(select(MemberBranchMonth.month).order_by(MemberBranchMonth.month).limit(1))
    made = 0
    if first is None:
        return made
    for month in months_between(int(first), previous_month(current)):
        for branch_id in _branches(conn):
            if (month, branch_id) in packed:
                continue
            ids, spend = _rows(conn, month, branch_id)
            if not len(ids):
                continue
            conn.execute(
                insert(SpendPack).values(
                    month=month,
                    branch_id=branch_id,
                    member_ids=ids.astype(LITTLE).tobytes(),
                    spend_fen=spend.astype(LITTLE).tobytes(),
                )
            )
            made += 1
    return made


def spend_by_member(conn: Connection, first: int | None, last: int, branch_id: int | None) -> tuple[Ints, Ints]:
    """Each member's spend in the months `first`..`last` (month keys; None: from the first) at a branch (None: all
    of them): member ids ascending and their spend, members without a row left out. Packed months come from their
    pack; the others (the current month, one a return just changed) from their rows."""
    import numpy as np

    branches = _branches(conn) if branch_id is None else [branch_id]
    if first is None:
        first = conn.scalar(select(MemberBranchMonth.month).order_by(MemberBranchMonth.month).limit(1)) or last
    query = select(SpendPack.month, SpendPack.branch_id, SpendPack.member_ids, SpendPack.spend_fen).where(
        SpendPack.month >= first, SpendPack.month <= last
    )
    if branch_id is not None:
        query = query.where(SpendPack.branch_id == branch_id)
    parts: list[tuple[Ints, Ints]] = []
    packed = set()
    for month, branch, id_bytes, spend_bytes in conn.execute(query):
        packed.add((int(month), int(branch)))
        parts.append((np.frombuffer(id_bytes, dtype=LITTLE), np.frombuffer(spend_bytes, dtype=LITTLE)))
    for month in months_between(first, last):
        for branch in branches:
            if (month, branch) not in packed:
                parts.append(_rows(conn, month, branch))
    parts = [(ids, spend) for ids, spend in parts if len(ids)]
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    total = np.zeros(max(int(ids[-1]) for ids, _spend in parts) + 1, dtype=np.int64)
    seen = np.zeros(len(total), dtype=np.bool_)
    for ids, spend in parts:  # a member appears once in a part: no two additions to one cell at once
        total[ids] += spend
        seen[ids] = True
    members = np.flatnonzero(seen).astype(np.int64)
    return members, total[members]


def differences(conn: Connection, timezone: str) -> list[str]:
    """The months and branches ("2026-11 branch 1") whose rows differ from the sales or whose pack differs from
    its rows; empty when all agree. The rows are compared in the database (both ways of EXCEPT), not in memory."""
    import numpy as np

    sql, params = _counted_sql(conn, timezone)
    stored = "SELECT month, branch_id, member_id, spend_fen FROM member_branch_months"
    statement = text(
        f"""SELECT DISTINCT month, branch_id FROM ({sql} EXCEPT {stored}) a
            UNION SELECT DISTINCT month, branch_id FROM ({stored} EXCEPT {sql}) b"""
    )
    found = {(int(m), int(b)) for m, b in conn.execute(statement, params)}
    for month, branch, ids, spend in conn.execute(
        select(SpendPack.month, SpendPack.branch_id, SpendPack.member_ids, SpendPack.spend_fen)
    ):
        row_ids, row_spend = _rows(conn, int(month), int(branch))
        if not (
            np.array_equal(np.frombuffer(ids, dtype=LITTLE), row_ids)
            and np.array_equal(np.frombuffer(spend, dtype=LITTLE), row_spend)
        ):
            found.add((int(month), int(branch)))
    return [f"{m // 100}-{m % 100:02d} branch {b}" for m, b in sorted(found)]
