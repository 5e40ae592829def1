"""Per-branch per-day sales totals (`sales_day_totals`) and per-category per-day totals (`category_day_totals`).

The purchase and return paths add to them in their own transaction (`add_sales`, `add_lines`); an import adds the
sales it wrote; a demo or migration 0008 counts them all from the sales (`rebuild`); `db check` counts them again and
compares (`differences`). A day is a day of the store's time zone. The sales are read in 15-minute UTC slots and
folded into local days here, so the count is exact for every zone (all zone offsets are whole quarter hours) on
SQLite, which has no time zones, and PostgreSQL alike.

This lives in db/ because migration 0008 fills the tables with it and migrations do not import app/.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Date, bindparam, delete, text

from db.models import CategoryDayTotal, SalesDayTotal

SLOT_SECONDS = 900
YEAR_1 = 62_135_596_800
"""Seconds from 0001-01-01 to 1970-01-01 UTC (a whole number of slots)."""
SALE_FIGURES = (
    "sales",
    "sales_fen",
    "member_sales",
    "member_sales_fen",
    "returns",
    "returns_fen",
    "member_returns_fen",
    "coupons_redeemed",
)
LINE_FIGURES = ("amount_fen", "quantity")

SalesKey = tuple[dt.date, int, int]
"""(day, branch_id, staff_id or 0)"""
CategoryKey = tuple[dt.date, int, int]
"""(day, branch_id, category_id or 0)"""


@dataclass(frozen=True)
class SaleFact:
    """One sale or return row as the totals see it (`count` rows of the same kind, for the bulk paths)."""

    sold_at: dt.datetime
    branch_id: int
    staff_id: int | None
    is_return: bool
    has_member: bool
    has_coupon: bool
    total_fen: int
    count: int = 1


def sale_figures(fact: SaleFact) -> list[int]:
    """The figures a sale (or return) adds, in SALE_FIGURES order."""
    n, total = fact.count, fact.total_fen
    if fact.is_return:
        member_returned = -total if fact.has_member else 0
        coupons = -n if fact.has_coupon else 0
        return [0, 0, 0, 0, n, -total, member_returned, coupons]
    member_n, member_total = (n, total) if fact.has_member else (0, 0)
    return [n, total, member_n, member_total, 0, 0, 0, n if fact.has_coupon else 0]


class LocalDays:
    """UTC instants (or 15-minute slots) to days of the store's time zone, remembering each slot."""

    def __init__(self, timezone: str) -> None:
        self.zone = ZoneInfo(timezone)
        self._slots: dict[int, dt.date] = {}

    def of(self, at: dt.datetime) -> dt.date:
        return at.astimezone(self.zone).date()

    def of_slot(self, slot: int) -> dt.date:
        day = self._slots.get(slot)
        if day is None:
            day = self._slots[slot] = dt.datetime.fromtimestamp(slot * SLOT_SECONDS, self.zone).date()
        return day


def _add(into: dict[tuple[dt.date, int, int], list[int]], key: tuple[dt.date, int, int], figures: list[int]) -> None:
    current = into.get(key)
    if current is None:
        into[key] = list(figures)
    else:
        for i, value in enumerate(figures):
            current[i] += value


def _upsert(table: str, keys: tuple[str, str, str], figures: tuple[str, ...]) -> object:
    columns = (*keys, *figures)
    return text(
        f"""INSERT INTO {table} ({", ".join(columns)}) VALUES ({", ".join(":" + c for c in columns)})
            ON CONFLICT ({", ".join(keys)}) DO UPDATE SET
            {", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in figures)}"""
    ).bindparams(bindparam("day", type_=Date()))


# ON CONFLICT … DO UPDATE is the same on SQLite (3.24+) and PostgreSQL: two counters of one branch adding to the
# same row never fail on the insert race. Rows are written in key order so two transactions never deadlock.
_SALES_UPSERT = _upsert("sales_day_totals", ("day", "branch_id", "staff_id"), SALE_FIGURES)
_CATEGORY_UPSERT = _upsert("category_day_totals", ("day", "branch_id", "category_id"), LINE_FIGURES)


def _write(
    conn: Connection,
    statement: object,
    keys: tuple[str, str, str],
    figures: tuple[str, ...],
    rows: dict[tuple[dt.date, int, int], list[int]],
) -> None:
    params = [dict(zip((*keys, *figures), (*key, *values), strict=True)) for key, values in sorted(rows.items())]
    if params:
        conn.execute(statement, params)  # type: ignore[call-overload]


def add_sales(conn: Connection, facts: Iterable[SaleFact], timezone: str) -> None:
    """Sales or returns just written, in the same transaction."""
    days = LocalDays(timezone)
    rows: dict[SalesKey, list[int]] = {}
    for fact in facts:
        _add(rows, (days.of(fact.sold_at), fact.branch_id, fact.staff_id or 0), sale_figures(fact))
    _write(conn, _SALES_UPSERT, ("day", "branch_id", "staff_id"), SALE_FIGURES, rows)


def add_lines(
    conn: Connection,
    sold_at: dt.datetime,
    branch_id: int,
    lines: Iterable[tuple[int | None, int, int]],
    timezone: str,
    sign: int = 1,
) -> None:
    """A sale's lines (category_id, amount_fen, quantity) just written; `sign=-1` for the lines a return takes back."""
    day = LocalDays(timezone).of(sold_at)
    rows: dict[CategoryKey, list[int]] = {}
    for category_id, amount_fen, quantity in lines:
        _add(rows, (day, branch_id, category_id or 0), [sign * amount_fen, sign * quantity])
    _write(conn, _CATEGORY_UPSERT, ("day", "branch_id", "category_id"), LINE_FIGURES, rows)


def _slot_sql(conn: Connection, column: str) -> str:
    if conn.dialect.name == "sqlite":
        # SQLite's integer division truncates towards zero: counted from year 1, every time is positive, so it floors
        # (a sale before 1970, as an old till's log may hold, still falls in its own slot).
        return f"((CAST(strftime('%s', {column}) AS INTEGER) + {YEAR_1}) / {SLOT_SECONDS} - {YEAR_1 // SLOT_SECONDS})"
    return f"CAST(floor(extract(epoch FROM {column}) / {SLOT_SECONDS}) AS BIGINT)"


def counted_sales(conn: Connection, timezone: str) -> dict[SalesKey, list[int]]:
    """The sales totals counted from every sale and return."""
    days = LocalDays(timezone)
    rows: dict[SalesKey, list[int]] = {}
    result = conn.execute(
        text(
            f"""SELECT {_slot_sql(conn, "sold_at")}, branch_id, COALESCE(staff_id, 0), kind,
                       CASE WHEN member_id IS NULL THEN 0 ELSE 1 END, CASE WHEN coupon_id IS NULL THEN 0 ELSE 1 END,
                       COUNT(*), SUM(total_fen)
                FROM sales GROUP BY 1, 2, 3, 4, 5, 6"""
        )
    )
    for slot, branch_id, staff_id, kind, member, coupon, count, total in result:
        fact = SaleFact(
            dt.datetime.min.replace(tzinfo=dt.UTC),
            branch_id,
            staff_id,
            kind == "return",
            bool(member),
            bool(coupon),
            int(total),
            int(count),
        )
        _add(rows, (days.of_slot(int(slot)), int(branch_id), int(staff_id)), sale_figures(fact))
    return rows


def counted_categories(conn: Connection, timezone: str) -> dict[CategoryKey, list[int]]:
    """The category totals counted from every sale's lines and, negated, the lines of every returned sale."""
    days = LocalDays(timezone)
    rows: dict[CategoryKey, list[int]] = {}
    result = conn.execute(
        text(
            f"""SELECT {_slot_sql(conn, "s.sold_at")}, s.branch_id, COALESCE(l.category_id, 0), s.kind,
                       SUM(l.amount_fen), SUM(l.quantity)
                FROM sales s JOIN sale_lines l ON l.sale_id = COALESCE(s.original_sale_id, s.id)
                GROUP BY 1, 2, 3, 4"""
        )
    )
    for slot, branch_id, category_id, kind, amount, quantity in result:
        sign = -1 if kind == "return" else 1
        _add(
            rows,
            (days.of_slot(int(slot)), int(branch_id), int(category_id)),
            [sign * int(amount), sign * int(quantity)],
        )
    return rows


def rebuild(conn: Connection, timezone: str) -> None:
    """Both tables counted again from all the sales (a demo, migration 0008, a repair)."""
    conn.execute(delete(SalesDayTotal))
    conn.execute(delete(CategoryDayTotal))
    _write(conn, _SALES_UPSERT, ("day", "branch_id", "staff_id"), SALE_FIGURES, counted_sales(conn, timezone))
    _write(
        conn, _CATEGORY_UPSERT, ("day", "branch_id", "category_id"), LINE_FIGURES, counted_categories(conn, timezone)
    )


def _stored(
    conn: Connection, table: str, keys: tuple[str, str, str], figures: tuple[str, ...]
) -> dict[tuple[dt.date, int, int], list[int]]:
    statement = text(f"SELECT {', '.join((*keys, *figures))} FROM {table}").columns(day=Date())
    return {(row[0], int(row[1]), int(row[2])): [int(v) for v in row[3:]] for row in conn.execute(statement)}


def _differing(
    expected: dict[tuple[dt.date, int, int], list[int]], stored: dict[tuple[dt.date, int, int], list[int]]
) -> set[tuple[dt.date, int]]:
    """Keys whose figures differ; a row of zeros (a sale and its return the same day) counts as no row."""
    want = {key: values for key, values in expected.items() if any(values)}
    have = {key: values for key, values in stored.items() if any(values)}
    return {(key[0], key[1]) for key in want.keys() | have.keys() if want.get(key) != have.get(key)}


def differences(conn: Connection, timezone: str) -> list[str]:
    """The days and branches ("2026-11-29 branch 1") whose stored totals differ from the sales; empty when all agree."""
    found = _differing(
        counted_sales(conn, timezone), _stored(conn, "sales_day_totals", ("day", "branch_id", "staff_id"), SALE_FIGURES)
    )
    found |= _differing(
        counted_categories(conn, timezone),
        _stored(conn, "category_day_totals", ("day", "branch_id", "category_id"), LINE_FIGURES),
    )
    return [f"{day.isoformat()} branch {branch}" for day, branch in sorted(found)]
