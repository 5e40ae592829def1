"""Members' spend per branch and calendar month (`member_branch_months`) and its packed copy (`spend_packs`).

A row holds the spend of a member's sales not returned at one branch in one month of the store's time zone (a row
of 0 counts as no row). The purchase path adds to its row in the same transaction (`add_sale`); a return, an import
or a demo recounts the members it touched from their sales (`recount_members`, `rebuild`). A pack is one month of
one branch as two int64 arrays (member ids ascending, their spend), so the Pareto curve reads a dozen blobs instead
of a million rows. Every write marks the rows it changed `since_pack` (a partial index holds just those); a reader
takes the packs and puts the marked rows over them, so a month is right without waiting for its next pack. The
daily catch-up packs every month with marked rows again and clears their marks (`pack_months`): between two, only
the day's buyers are read as rows. `differences` (run by `db check`) recounts every row from the sales and compares
what a reader sees of every month and branch with its rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, bindparam, delete, insert, select, text, tuple_, update

from db.bulk import marker
from db.later import later
from db.models import MemberBranchMonth, SpendPack

if TYPE_CHECKING:
    import numpy as np

    Ints = np.ndarray[Any, np.dtype[np.int64]]

CHUNK = 500
INSERT_BATCH = 20_000
NARROW, WIDE = "<i4", "<i8"
"""The packs' numbers, little-endian whatever the machine's: int32 when every number of the array fits (half the
bytes to read), else int64; `spend_packs.members` tells which. numpy is loaded only where packs are read or made:
the purchase path never needs it."""


def month_key(day: dt.date) -> int:
    return day.year * 100 + day.month


_UPSERT = """INSERT INTO member_branch_months (month, branch_id, member_id, spend_fen, since_pack)
       VALUES ({p}, {p}, {p}, {p}, true)
       ON CONFLICT (month, branch_id, member_id) DO UPDATE
       SET spend_fen = member_branch_months.spend_fen + excluded.spend_fen, since_pack = true"""
MARKED = "since_pack = true"
"""The partial index's condition, written the same in every query that should use it."""


def add_sale(
    conn: Connection, member_id: int, branch_id: int, sold_at: dt.datetime, total_fen: int, timezone: str
) -> None:
    """A purchase just written: add it to its month at its branch (a write nobody waits on: `db.later`)."""
    month = month_key(sold_at.astimezone(ZoneInfo(timezone)).date())
    later(conn, _UPSERT, (month, branch_id, member_id, total_fen))


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
              GROUP BY 1, 2, 3 HAVING SUM(s.total_fen) <> 0"""
    return sql, params


def _insert(conn: Connection, rows: list[tuple[int, int, int, int]]) -> None:
    for start in range(0, len(rows), INSERT_BATCH):
        conn.execute(
            insert(MemberBranchMonth),
            [
                {"month": m, "branch_id": b, "member_id": i, "spend_fen": s, "since_pack": True}
                for m, b, i, s in rows[start : start + INSERT_BATCH]
            ],
        )


def recount_members(conn: Connection, member_ids: Iterable[int], timezone: str) -> None:
    """Recount these members' rows from their sales (after a return or a bulk write of sales). The rows that
    change are written again, marked; one that is gone becomes a marked 0, so it covers its member in the pack."""
    ids = sorted(set(member_ids))
    sql, params = _counted_sql(conn, timezone, "AND s.member_id IN :members")
    statement = text(sql).bindparams(bindparam("members", expanding=True))
    columns = (MemberBranchMonth.month, MemberBranchMonth.branch_id, MemberBranchMonth.member_id)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        old = {
            (int(m), int(b), int(i)): int(s)
            for m, b, i, s in conn.execute(
                select(*columns, MemberBranchMonth.spend_fen).where(
                    MemberBranchMonth.member_id.in_(chunk), MemberBranchMonth.spend_fen != 0
                )
            )
        }
        new = {(int(m), int(b), int(i)): int(s) for m, b, i, s in conn.execute(statement, {**params, "members": chunk})}
        changed = sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key))
        for part in range(0, len(changed), CHUNK):
            keys = changed[part : part + CHUNK]
            conn.execute(delete(MemberBranchMonth).where(tuple_(*columns).in_(keys)))
            _insert(conn, [(*key, new.get(key, 0)) for key in keys])


def rebuild(conn: Connection, timezone: str) -> None:
    """Every row counted again from all the sales, and every month packed (a demo, migration 0020, a segment
    recount)."""
    conn.execute(delete(SpendPack))
    conn.execute(delete(MemberBranchMonth))
    counted, params = _counted_sql(conn, timezone)
    conn.execute(
        text(
            "INSERT INTO member_branch_months (month, branch_id, member_id, spend_fen, since_pack) "
            f"SELECT c.*, false FROM ({counted}) c ORDER BY 1, 2, 3"
        ),
        params,
    )
    pairs = conn.execute(text("SELECT DISTINCT month, branch_id FROM member_branch_months ORDER BY 1, 2")).all()
    for month, branch_id in pairs:
        _write_pack(conn, int(month), int(branch_id), _pair_rows(conn, int(month), int(branch_id)))


def _int_rows(conn: Connection, sql: str, params: tuple[Any, ...], width: int) -> Ints:
    """A query's integer rows as an int64 array of `width` columns (`{p}`: the driver's parameter marker)."""
    import numpy as np

    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql.format(p=marker(conn)), params)
        found = cursor.fetchall()
    finally:
        cursor.close()
    return np.array(found, dtype=np.int64).reshape(-1, width)


def _pair_rows(conn: Connection, month: int, branch_id: int) -> tuple[Ints, Ints]:
    """A month of a branch read from its rows (0 left out): member ids ascending and their spend."""
    rows = _int_rows(
        conn,
        "SELECT member_id, spend_fen FROM member_branch_months"
        " WHERE month = {p} AND branch_id = {p} AND spend_fen <> 0 ORDER BY member_id",
        (month, branch_id),
        2,
    )
    return rows[:, 0].copy(), rows[:, 1].copy()


def _packed(values: Ints) -> bytes:
    import numpy as np

    narrow = (
        bool(len(values))
        and int(values.min()) >= np.iinfo(np.int32).min
        and int(values.max()) <= np.iinfo(np.int32).max
    )
    return values.astype(NARROW if narrow else WIDE).tobytes()


def _unpacked(blob: bytes, members: int) -> Ints:
    import numpy as np

    return np.frombuffer(blob, dtype=NARROW if len(blob) == 4 * members else WIDE)


def _write_pack(conn: Connection, month: int, branch_id: int, part: tuple[Ints, Ints] | None) -> None:
    """Replace the pack of a month of a branch (none when it has no member left)."""
    conn.execute(delete(SpendPack).where(SpendPack.month == month, SpendPack.branch_id == branch_id))
    if part is not None and len(part[0]):
        conn.execute(
            insert(SpendPack).values(
                month=month,
                branch_id=branch_id,
                members=len(part[0]),
                member_ids=_packed(part[0]),
                spend_fen=_packed(part[1]),
            )
        )


def _marked(conn: Connection, first: int, last: int, branch_id: int | None, lock: bool = False) -> Ints:
    """The marked rows (month, branch, member, spend) of months `first`..`last` (of a branch), from their index."""
    sql = f"SELECT month, branch_id, member_id, spend_fen FROM member_branch_months WHERE {MARKED}"
    sql += " AND month >= {p} AND month <= {p}"
    params: tuple[int, ...] = (first, last)
    if branch_id is not None:
        sql += " AND branch_id = {p}"
        params += (branch_id,)
    sql += " ORDER BY month, branch_id, member_id"
    if lock and conn.dialect.name != "sqlite":
        sql += " FOR UPDATE"  # a purchase meanwhile waits: the marks cleared are those of the values packed
    return _int_rows(conn, sql, params, 4)


Pair = tuple[int, int]


def _seen(conn: Connection, first: int, last: int, branch_id: int | None) -> dict[Pair, tuple[Ints, Ints]]:
    """What a reader sees of each month (`first`..`last`) and branch: its pack with the marked rows put over it,
    members with 0 left out; member ids ascending."""
    import numpy as np

    query = select(
        SpendPack.month, SpendPack.branch_id, SpendPack.members, SpendPack.member_ids, SpendPack.spend_fen
    ).where(SpendPack.month >= first, SpendPack.month <= last)
    if branch_id is not None:
        query = query.where(SpendPack.branch_id == branch_id)
    seen: dict[Pair, tuple[Ints, Ints]] = {
        (int(m), int(b)): (_unpacked(ids, n), _unpacked(spend, n)) for m, b, n, ids, spend in conn.execute(query)
    }
    marked = _marked(conn, first, last, branch_id)
    if len(marked):
        pair_keys = marked[:, 0] * 1_000_000 + marked[:, 1]
        starts = np.flatnonzero(np.concatenate(([True], pair_keys[1:] != pair_keys[:-1])))
        for begin, end in zip(starts.tolist(), [*starts[1:].tolist(), len(marked)], strict=True):
            pair = (int(marked[begin, 0]), int(marked[begin, 1]))
            ids, spend = marked[begin:end, 2], marked[begin:end, 3]
            if pair in seen:
                packed_ids, packed_spend = seen[pair]
                kept = ~np.isin(packed_ids, ids, assume_unique=True)
                ids = np.concatenate((packed_ids[kept], ids))
                spend = np.concatenate((packed_spend[kept], spend))
                order = np.argsort(ids, kind="stable")
                ids, spend = ids[order], spend[order]
            seen[pair] = (ids, spend)
    for pair, (ids, spend) in seen.items():
        if (spend == 0).any():
            seen[pair] = (ids[spend != 0], spend[spend != 0])
    return seen


def _first_month(conn: Connection) -> int | None:
    first = conn.scalar(select(MemberBranchMonth.month).order_by(MemberBranchMonth.month).limit(1))
    return None if first is None else int(first)


def pack_months(conn: Connection) -> int:
    """Pack again every month of a branch that has marked rows, and clear their marks (rows of 0 go). Returns how
    many packs it wrote."""
    first = _first_month(conn)
    if first is None:
        return 0
    marked = {
        (int(m), int(b))
        for m, b in conn.execute(text(f"SELECT DISTINCT month, branch_id FROM member_branch_months WHERE {MARKED}"))
    }
    for month, branch_id in sorted(marked):
        taken = _marked(conn, month, month, branch_id, lock=True)[:, 2].tolist()
        _write_pack(conn, month, branch_id, _seen(conn, month, month, branch_id).get((month, branch_id)))
        in_pair = (MemberBranchMonth.month == month, MemberBranchMonth.branch_id == branch_id)
        for start in range(0, len(taken), INSERT_BATCH):
            chunk = taken[start : start + INSERT_BATCH]
            these = (*in_pair, MemberBranchMonth.member_id.in_(chunk))
            conn.execute(delete(MemberBranchMonth).where(*these, MemberBranchMonth.spend_fen == 0))
            conn.execute(update(MemberBranchMonth).where(*these).values(since_pack=False))
    return len(marked)


def spend_by_member(conn: Connection, first: int | None, last: int, branch_id: int | None) -> tuple[Ints, Ints]:
    """Each member's spend in the months `first`..`last` (month keys; None: from the first) at a branch (None: all
    of them): member ids ascending and their spend, members without any left out. The packs with the rows marked
    since put over them (`_seen`): normally a dozen blobs and the day's buyers."""
    import numpy as np

    if first is None:
        first = _first_month(conn) or last
    parts = [part for part in _seen(conn, first, last, branch_id).values() if len(part[0])]
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    total = np.zeros(max(int(ids[-1]) for ids, _spend in parts) + 1, dtype=np.int64)
    for ids, spend in parts:  # a member appears once in a part: no two additions to one cell at once
        total[ids] += spend
    members = np.flatnonzero(total).astype(np.int64)  # a member whose spend adds up to 0 bought nothing
    return members, total[members]


def differences(conn: Connection, timezone: str) -> list[str]:
    """The months and branches ("2026-11 branch 1") whose rows differ from the sales, or where what a reader sees
    (packs and marked rows) differs from the rows; empty when all agree. Rows are compared with the sales in the
    database (both ways of EXCEPT), not in memory."""
    import numpy as np

    sql, params = _counted_sql(conn, timezone)
    stored = "SELECT month, branch_id, member_id, spend_fen FROM member_branch_months WHERE spend_fen <> 0"
    statement = text(
        f"""SELECT DISTINCT month, branch_id FROM ({sql} EXCEPT {stored}) a
            UNION SELECT DISTINCT month, branch_id FROM ({stored} EXCEPT {sql}) b"""
    )
    found = {(int(m), int(b)) for m, b in conn.execute(statement, params)}
    packed = {(int(m), int(b)) for m, b in conn.execute(select(SpendPack.month, SpendPack.branch_id))}
    with_rows = {
        (int(m), int(b)) for m, b in conn.execute(text("SELECT DISTINCT month, branch_id FROM member_branch_months"))
    }
    for month, branch_id in sorted(packed | with_rows):
        ids, spend = _seen(conn, month, month, branch_id).get((month, branch_id), (np.zeros(0, np.int64),) * 2)
        row_ids, row_spend = _pair_rows(conn, month, branch_id)
        if not (np.array_equal(ids, row_ids) and np.array_equal(spend, row_spend)):
            found.add((month, branch_id))
    return [f"{m // 100}-{m % 100:02d} branch {b}" for m, b in sorted(found)]
