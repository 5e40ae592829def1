"""Per-member monthly purchase totals (`member_month_totals`), kept with every purchase and return.

The segment refresh reads these rows (a few per member) instead of every sale. A row holds the spend of the
member's sales not returned in one calendar month of the store's time zone, how many there were, a bit per
purchase day and the spend of the month's first purchase day. The purchase path adds to its row in the same
transaction (`add_sale`); a return, an import or a demo recounts the members it touched from their sales
(`recount_members`); `month_total_differences` (run by `db check`) recounts everything and compares. Each change
also writes the member's short history row again from their months (db/member_histories.py), which is what the
refresh reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BindParameter, Connection, bindparam, delete, insert, select, text

from db import member_histories
from db.base import UTCDateTime
from db.engine import Database
from db.models import MemberMonthTotal, Setting

EPOCH = dt.date(1970, 1, 1)
BUILT_MARKER = "insights.month_totals_built"
"""A settings row saying the totals were filled from the sales once (after migration 0006 or on a new store)."""
CHUNK = 500
INSERT_BATCH = 20_000


def month_key(day: dt.date) -> int:
    return day.year * 100 + day.month


def month_start(key: int) -> dt.date:
    return dt.date(key // 100, key % 100, 1)


@dataclass
class MonthTotal:
    spend_fen: int = 0
    sales: int = 0
    days_mask: int = 0
    first_day_spend_fen: int = 0

    def add_day(self, day_of_month: int, spend_fen: int, sales: int) -> None:
        """Days must come in order within the month."""
        if self.days_mask == 0:
            self.first_day_spend_fen = spend_fen
        self.days_mask |= 1 << (day_of_month - 1)
        self.spend_fen += spend_fen
        self.sales += sales


_INSERT = insert(MemberMonthTotal)
_COLUMNS = "month, spend_fen, days_mask, first_day_spend_fen"
# A purchase added to its month in one statement, whether the row is there or not: the sale is the month's first
# purchase-day spend when no earlier day of the month has one (the SET's columns are the row's values before).
_ADD = """INSERT INTO member_month_totals (member_id, month, spend_fen, sales, days_mask, first_day_spend_fen)
       VALUES (:member, :month, :total, 1, :bit, :total)
       ON CONFLICT (member_id, month) DO UPDATE SET
         spend_fen = member_month_totals.spend_fen + excluded.spend_fen,
         sales = member_month_totals.sales + 1,
         first_day_spend_fen = CASE
           WHEN member_month_totals.days_mask = 0
             OR (member_month_totals.days_mask & -member_month_totals.days_mask) > excluded.days_mask
             THEN excluded.spend_fen
           WHEN (member_month_totals.days_mask & -member_month_totals.days_mask) = excluded.days_mask
             THEN member_month_totals.first_day_spend_fen + excluded.spend_fen
           ELSE member_month_totals.first_day_spend_fen END,
         days_mask = member_month_totals.days_mask | excluded.days_mask"""
_MONTHS = f"SELECT {_COLUMNS} FROM member_month_totals WHERE member_id = :member AND days_mask != 0"
_ADD_ON = {
    # SQLite: the addition, then the member's months (what the history row is made from).
    "sqlite": (text(_ADD), text(_MONTHS + " ORDER BY month")),
    # PostgreSQL: one round trip. The main query reads the table as it was before the statement, so the month
    # added to comes from the addition's RETURNING and the others from the table.
    "postgresql": (
        text(
            f"WITH added AS ({_ADD} RETURNING {_COLUMNS}) {_MONTHS} AND month <> :month"
            f" UNION ALL SELECT {_COLUMNS} FROM added ORDER BY 1"
        ),
    ),
}


def add_sale(conn: Connection, member_id: int, sold_at: dt.datetime, total_fen: int, timezone: str) -> None:
    """A purchase just written: add it to its month, and write the member's history row again from their months.
    The caller holds the member's row lock, so no other counter changes this member's rows meanwhile."""
    day = sold_at.astimezone(ZoneInfo(timezone)).date()
    params = {"member": member_id, "month": month_key(day), "total": total_fen, "bit": 1 << (day.day - 1)}
    *add, read = _ADD_ON[conn.dialect.name]
    for statement in add:
        conn.execute(statement, params)
    months = [(int(m), int(s), int(d), int(f)) for m, s, d, f in conn.execute(read, params)]
    member_histories.write_one(conn, member_id, months)


def _local_day_sql(conn: Connection, timezone: str) -> tuple[str, dict[str, object]]:
    """SQL for a sale's day in the store's time zone, as days since 1970-01-01. SQLite has no time zones: it
    shifts by the zone's offset now, which is exact for zones without summer time (China's)."""
    if conn.dialect.name == "sqlite":
        offset = dt.datetime.now(ZoneInfo(timezone)).utcoffset() or dt.timedelta()
        shift = f"{int(offset.total_seconds() // 60):+d} minutes"
        return "CAST(julianday(s.sold_at, :shift) - 2440587.5 AS INTEGER)", {"shift": shift}
    return "(CAST(s.sold_at AT TIME ZONE :tz AS DATE) - DATE '1970-01-01')", {"tz": timezone}


def sale_days(
    conn: Connection,
    timezone: str,
    member_ids: list[int] | None = None,
    until: dt.datetime | None = None,
    since: dt.datetime | None = None,
) -> Iterator[tuple[int, int, int, int]]:
    """(member_id, local day number, spend, sales) of the sales not returned, ordered by member and day."""
    day_sql, params = _local_day_sql(conn, timezone)
    where = ["s.kind = 'sale'", "s.member_id IS NOT NULL"]
    binds: list[BindParameter[Any]] = []
    if member_ids is not None:
        where.append("s.member_id IN :members")
        binds.append(bindparam("members", expanding=True))
        params["members"] = member_ids
    if since is not None:
        where.append("s.sold_at >= :since")
        binds.append(bindparam("since", type_=UTCDateTime()))
        params["since"] = since
    if until is not None:
        where.append("s.sold_at < :until")
        binds.append(bindparam("until", type_=UTCDateTime()))
        params["until"] = until
    statement = text(
        f"""SELECT s.member_id, {day_sql} AS day, SUM(s.total_fen), COUNT(*) FROM sales s
            WHERE {" AND ".join(where)}
              AND NOT EXISTS (SELECT 1 FROM sales r WHERE r.original_sale_id = s.id)
            GROUP BY 1, 2 ORDER BY 1, 2"""
    ).bindparams(*binds)
    result = conn.execute(statement.execution_options(yield_per=50_000), params)
    for member_id, day, spend, sales in result:
        yield int(member_id), int(day), int(spend), int(sales)


def month_totals(days: Iterable[tuple[int, int, int, int]]) -> dict[tuple[int, int], MonthTotal]:
    """Fold per-day rows (ordered by member and day) into per-month totals."""
    totals: dict[tuple[int, int], MonthTotal] = {}
    dates: dict[int, dt.date] = {}
    for member_id, day_no, spend, sales in days:
        day = dates.get(day_no)
        if day is None:
            day = dates[day_no] = EPOCH + dt.timedelta(days=day_no)
        key = (member_id, month_key(day))
        total = totals.get(key)
        if total is None:
            total = totals[key] = MonthTotal()
        total.add_day(day.day, spend, sales)
    return totals


def _write(conn: Connection, totals: dict[tuple[int, int], MonthTotal]) -> None:
    rows = [
        {
            "member_id": member_id,
            "month": month,
            "spend_fen": t.spend_fen,
            "sales": t.sales,
            "days_mask": t.days_mask,
            "first_day_spend_fen": t.first_day_spend_fen,
        }
        for (member_id, month), t in totals.items()
    ]
    for start in range(0, len(rows), INSERT_BATCH):
        conn.execute(_INSERT, rows[start : start + INSERT_BATCH])


def recount_members(conn: Connection, member_ids: Iterable[int], timezone: str) -> None:
    """Recount these members' months from their sales (after a return or a bulk write of sales)."""
    ids = sorted(set(member_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        conn.execute(delete(MemberMonthTotal).where(MemberMonthTotal.member_id.in_(chunk)))
        _write(conn, month_totals(sale_days(conn, timezone, chunk)))
        member_histories.write(conn, chunk)


def rebuild_all(conn: Connection, timezone: str) -> None:
    """Every member's months counted again from all the sales, and the store marked as counted."""
    conn.execute(delete(MemberMonthTotal))
    _write(conn, month_totals(sale_days(conn, timezone)))
    member_histories.write_all(conn)
    if conn.execute(select(Setting.key).where(Setting.key == BUILT_MARKER)).first() is None:
        conn.execute(insert(Setting).values(key=BUILT_MARKER, value=True))


def totals_built(conn: Connection) -> bool:
    return conn.execute(select(Setting.key).where(Setting.key == BUILT_MARKER)).first() is not None


def ensure_month_totals(db: Database, timezone: str) -> bool:
    """Fill the totals from the sales if this store never had them (a store migrated to 0006). True if it did."""
    with db.session() as session:
        if totals_built(session.connection()):
            return False
    db.write(lambda session: rebuild_all(session.connection(), timezone))
    return True


def month_total_differences(conn: Connection, timezone: str) -> list[str]:
    """The member ids (as text) whose stored monthly totals, or history row, differ from their sales; empty when
    all agree or the totals were never built (the first refresh builds them)."""
    if not totals_built(conn):
        return []
    expected = month_totals(sale_days(conn, timezone))
    stored = {
        (m, mo): MonthTotal(s, n, d, f)
        for m, mo, s, n, d, f in conn.execute(
            select(
                MemberMonthTotal.member_id,
                MemberMonthTotal.month,
                MemberMonthTotal.spend_fen,
                MemberMonthTotal.sales,
                MemberMonthTotal.days_mask,
                MemberMonthTotal.first_day_spend_fen,
            ).where(MemberMonthTotal.days_mask != 0)
        )
    }
    differing = {key[0] for key in expected.keys() ^ stored.keys()}
    differing |= {key[0] for key in expected.keys() & stored.keys() if expected[key] != stored[key]}
    months: dict[int, list[member_histories.MonthRow]] = {}
    for (member_id, month), total in sorted(expected.items()):
        months.setdefault(member_id, []).append((month, total.spend_fen, total.days_mask, total.first_day_spend_fen))
    differing |= member_histories.differences(conn, months)
    return [str(m) for m in sorted(differing)]
