"""Per-branch per-day points totals (`points_day_totals`), for the points chart: points issued, redeemed, expired and
every other posting, summed by day of the store's time zone, up to a ledger id (`points_day_marks.counted_to`).

The ledger is append-only, so the totals of the rows up to that id never change: a reader adds the rows after it
(a range of the primary key: the postings since the last catch-up) to the stored totals and gets the whole ledger,
exactly, without any counter path writing to this table. `catch_up` folds those newer rows in (the daily
maintenance); it first takes a lock that waits for every transaction still inserting ledger rows (PostgreSQL hands
out ids before commit, so a lower id may appear after a higher one; SQLite has one writer at a time), so no row is
ever skipped. `rebuild` counts everything again (migration 0015, a demo, a changed time zone); `db check` counts the
rows up to the mark again and compares (`differences`).

In db/ because migration 0015 fills the table with it and migrations do not import app/.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import Connection, delete, insert, select, text, update

from db.day_totals import LocalDays, _add, _differing, _slot_sql, _stored, _upsert, _write
from db.enums import LedgerSource
from db.models import PointsDayMark, PointsDayTotal, PointsLedger

ISSUED, REDEEMED, EXPIRED, OTHER = range(4)
"""The kinds of `points_day_totals`: points issued (positive earnings, adjustments, survey rewards, referral bonuses
and imports), redeemed (at the till and for gifts, negative), expired (negative), and every other posting
(reversals, negative adjustments): all four add up to the points outstanding."""
ISSUED_SOURCES = (
    LedgerSource.SALE,
    LedgerSource.ADJUSTMENT,
    LedgerSource.SURVEY_REWARD,
    LedgerSource.REFERRAL,
    LedgerSource.IMPORT,
)
REDEEMED_SOURCES = (LedgerSource.REDEMPTION, LedgerSource.GIFT)
EXPIRED_SOURCES = (LedgerSource.EXPIRY,)
KEYS = ("day", "branch_id", "kind")
FIGURES = ("points",)
_UPSERT = _upsert("points_day_totals", KEYS, FIGURES)

PointsKey = tuple[dt.date, int, int]
"""(day, branch_id, kind)"""


def kind_of(source: str, delta: int) -> int:
    if source in REDEEMED_SOURCES:
        return REDEEMED
    if source in EXPIRED_SOURCES:
        return EXPIRED
    return ISSUED if source in ISSUED_SOURCES and delta > 0 else OTHER


def _kind_sql() -> str:
    def listed(sources: Iterable[LedgerSource]) -> str:
        return ", ".join(f"'{s.value}'" for s in sources)

    return f"""CASE WHEN source IN ({listed(REDEEMED_SOURCES)}) THEN {REDEEMED}
                    WHEN source IN ({listed(EXPIRED_SOURCES)}) THEN {EXPIRED}
                    WHEN source IN ({listed(ISSUED_SOURCES)}) AND delta > 0 THEN {ISSUED}
                    ELSE {OTHER} END"""


def counted(conn: Connection, timezone: str, up_to: int) -> dict[PointsKey, list[int]]:
    """The totals of the ledger rows with an id up to `up_to`, counted from the rows."""
    days = LocalDays(timezone)
    rows: dict[PointsKey, list[int]] = {}
    result = conn.execute(
        text(
            f"""SELECT {_slot_sql(conn, "created_at")}, branch_id, {_kind_sql()}, SUM(delta)
                FROM points_ledger WHERE id <= :up_to GROUP BY 1, 2, 3"""
        ),
        {"up_to": up_to},
    )
    for slot, branch_id, kind, points in result:
        _add(rows, (days.of_slot(int(slot)), int(branch_id), int(kind)), [int(points)])
    return rows


def after_mark(
    conn: Connection, counted_to: int, timezone: str, up_to: int | None = None
) -> dict[PointsKey, list[int]]:
    """The totals of the ledger rows after the mark (up to `up_to`, else all), read by the primary key."""
    days = LocalDays(timezone)
    rows: dict[PointsKey, list[int]] = {}
    query = select(PointsLedger.created_at, PointsLedger.branch_id, PointsLedger.source, PointsLedger.delta).where(
        PointsLedger.id > counted_to
    )
    if up_to is not None:
        query = query.where(PointsLedger.id <= up_to)
    for at, branch_id, source, delta in conn.execute(query):
        _add(rows, (days.of(at), int(branch_id), kind_of(source, int(delta))), [int(delta)])
    return rows


def mark(conn: Connection) -> tuple[int, str] | None:
    """(the last ledger id counted, the time zone it was counted in), or None before the first count."""
    row = conn.execute(select(PointsDayMark.counted_to, PointsDayMark.timezone)).first()
    return None if row is None else (int(row[0]), str(row[1]))


def _newest_id(conn: Connection) -> int:
    return int(conn.execute(select(PointsLedger.id).order_by(PointsLedger.id.desc()).limit(1)).scalar() or 0)


def _hold_ledger_writers(conn: Connection) -> None:
    """Wait for every transaction inserting ledger rows, and keep new ones out until this one ends (PostgreSQL;
    SQLite's write transaction already holds its one writer lock)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE points_ledger IN SHARE MODE"))


def rebuild(conn: Connection, timezone: str) -> None:
    """The totals counted again from the whole ledger (migration 0015, a demo, a changed time zone)."""
    _hold_ledger_writers(conn)
    newest = _newest_id(conn)
    conn.execute(delete(PointsDayTotal))
    conn.execute(delete(PointsDayMark))
    _write(conn, _UPSERT, KEYS, FIGURES, counted(conn, timezone, newest))
    conn.execute(insert(PointsDayMark).values(id=1, counted_to=newest, timezone=timezone))


CATCH_UP_ROWS = 20_000
"""Ledger rows folded in per transaction: each holds the writer (SQLite) or the ledger's inserts (PostgreSQL) for a
moment only."""


def catch_up(conn: Connection, timezone: str, most: int = CATCH_UP_ROWS) -> int:
    """Up to `most` ledger rows written since the mark folded into the totals, in the caller's (write) transaction;
    all counted again when nothing was counted yet or the store's time zone changed. Returns how many ids the mark
    moved on (0: nothing new; call again until then)."""
    _hold_ledger_writers(conn)
    found = mark(conn)
    if found is None or found[1] != timezone:
        before = found[0] if found is not None else 0
        rebuild(conn, timezone)
        return max(_newest_id(conn) - before, 1)
    counted_to = found[0]
    up_to = min(_newest_id(conn), counted_to + most)
    if up_to <= counted_to:
        return 0
    _write(conn, _UPSERT, KEYS, FIGURES, after_mark(conn, counted_to, timezone, up_to))
    conn.execute(update(PointsDayMark).values(counted_to=up_to))
    return up_to - counted_to


def stored(conn: Connection) -> dict[PointsKey, list[int]]:
    return _stored(conn, "points_day_totals", KEYS, FIGURES)


def differences(conn: Connection, timezone: str) -> list[str]:
    """The days and branches ("2026-11-29 branch 1") whose stored points totals differ from the ledger rows up to the
    mark; empty when all agree (or when nothing was counted yet: the readers then read the ledger itself)."""
    found = mark(conn)
    if found is None or found[1] != timezone:
        return []
    differing = _differing(counted(conn, timezone, found[0]), stored(conn))
    return [f"{day.isoformat()} branch {branch}" for day, branch in sorted(differing)]
