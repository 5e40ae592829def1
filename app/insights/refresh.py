"""The segment refresh: members' histories in, per-member segments out (stored, and for the command line's file).
Heavy imports (numpy): loaded only when a refresh runs.

The whole refresh (read, compute, store) runs in a process of its own (app/child_process.py: forked on Linux,
spawned on Windows), with its own connections, so a refresh started from the GUI leaves the counter's interpreter
free and its memory small. It reads one short history row per member (db/member_histories.py); on SQLite they come
over joined by SQLite, one value per column and slice of 32,768 member ids, read by numpy. While SQLite reads a
slice, threads turn the slices before into each buyer's figures (`BuyerFigures.put`), written straight into arrays
made once; members who bought after the as-of day are left out slice by slice and have theirs made again from their
monthly totals. The results go back column by column through executemany.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Connection, bindparam, delete, func, insert, select, text
from sqlalchemy.orm import Session

from app.charts import segment_counts
from app.child_process import run_job
from app.clock import Clock
from app.errors import MemberDeskError, ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.insights import aggregates
from app.insights.compute import (
    MODELS,
    Bools,
    BuyerFigures,
    Fit,
    Floats,
    Histories,
    HistoryRows,
    Ints,
    MonthRows,
    SegmentOptions,
    Segments,
    day_number,
    measure,
    score,
)
from app.insights.labels import PYRAMID, RFM_CLASSES, STAGES
from app.security.operator import Operator
from app.settings import read_settings
from db import spend_months
from db.bulk import DriverValues, bulk_insert, marker
from db.engine import Database
from db.enums import MemberStatus
from db.models import Member, MemberHistory, MemberSegment, SegmentRun

Progress = Callable[[int, int, str], bool]
STEPS = 4
MOVES_KEY = "moves "
"""The counts' keys for the lifecycle moves of a month: "moves 2026-10"."""
READ_SLICE = 200_000


class RefreshCancelled(MemberDeskError):
    """The progress callback asked to stop; nothing was stored."""

    def __init__(self) -> None:
        super().__init__(S("Errors", "The segment refresh was cancelled; the previous results are kept."))

    def __reduce__(self) -> tuple[type[RefreshCancelled], tuple[()]]:
        return (RefreshCancelled, ())


@dataclass(frozen=True)
class MemberNumbers:
    member_no: list[str]
    card_no: list[str | None]


@dataclass
class SegmentReport:
    as_of: dt.date
    horizon_days: int
    segments: Segments | None
    """Every member's figures; None when the refresh was asked without them (the GUI and the maintenance only
    need the counts, and a million members' figures would cross from the refresh's process for nothing)."""
    fit: Fit
    numbers: MemberNumbers
    stored: bool
    later_sales_ignored: int
    members: int
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    phases: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Wall and CPU seconds of each phase ("read", "compute" with the fit, "store"), taken in the process that
    did the work (for the benchmark and the log)."""

    def per_member(self) -> Segments:
        if self.segments is None:
            raise ValueError("the refresh was run without its per-member figures")
        return self.segments


def _int_table(conn: Connection, sql: str, params: tuple[Any, ...], width: int) -> Ints:
    """The rows of a query of `width` integer columns as an int64 array, straight from the driver and read in
    slices, so a million members' rows never sit in memory as Python tuples all at once. `{p}` in `sql` stands
    for the driver's parameter marker."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql.format(p=marker(conn)), params)
        parts = [np.empty((0, width), dtype=np.int64)]
        while chunk := cursor.fetchmany(READ_SLICE):
            flat = np.fromiter(itertools.chain.from_iterable(chunk), dtype=np.int64, count=len(chunk) * width)
            parts.append(flat.reshape(-1, width))
    finally:
        cursor.close()
    return np.concatenate(parts)


def _int_columns(
    conn: Connection, columns: tuple[str, ...], table: str, where: str, params: tuple[Any, ...]
) -> list[Ints]:
    """Integer `columns` (SQL expressions, never NULL; `{p}` for the driver's parameter marker) of the rows of
    `table` that match `where`, one int64 array per column.

    On SQLite the rows come back as one comma-separated text per column, made by SQLite and read by numpy, both in
    C: the driver makes no Python object per value, which is where handing millions of rows over one by one
    spends most of its time (bench/README.md). Elsewhere through `_int_table`."""
    if conn.dialect.name != "sqlite":
        found = _int_table(conn, f"SELECT {', '.join(columns)} FROM {table} WHERE {where}", params, len(columns))
        return [np.ascontiguousarray(found[:, j]) for j in range(len(columns))]
    texts = ", ".join(f"group_concat({column})" for column in columns)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        count, *texts_found = cursor.execute(
            f"SELECT COUNT(*), {texts} FROM {table} WHERE {where.format(p='?')}", params
        ).fetchone()
    finally:
        cursor.close()
    if not count:
        return [np.zeros(0, dtype=np.int64) for _ in columns]
    return [np.fromstring(text, dtype=np.int64, sep=",") for text in texts_found]


READ_THREADS = 2
"""Threads working on slices already read, while the next is read."""
HISTORY_SLICE = 32_768
"""Member ids per query when SQLite hands the history rows over joined (a few megabytes each: small enough that
the memory of one slice is used again for the next)."""


def most_histories(conn: Connection) -> int:
    """At least as many as there are history rows (one per member at most): the highest member id among them."""
    return int(conn.execute(select(func.coalesce(func.max(MemberHistory.member_id), 0))).scalar_one())


def _history_slices(conn: Connection) -> Iterator[HistoryRows]:
    """Every history row, in member order, a slice at a time.

    On SQLite, SQLite joins each slice's `head`s and `months` itself (a range of member ids: a range of the table's
    b-tree, read in its order) and hands it over as one value per column: the driver makes no Python object per
    member, which is where handing a million rows over one by one spends most of its time (bench/README.md)."""
    if conn.dialect.name != "sqlite":
        statement = select(MemberHistory.head, MemberHistory.months).order_by(MemberHistory.member_id)
        for part in conn.execute(statement.execution_options(yield_per=HISTORY_SLICE)).partitions():
            yield HistoryRows(b"".join(head for head, _ in part), b"".join(months for _, months in part))
        return
    top = most_histories(conn)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        for low in range(0, top, HISTORY_SLICE):
            heads, months = cursor.execute(
                "SELECT CAST(group_concat(head, '') AS BLOB), CAST(group_concat(months, '') AS BLOB)"
                " FROM member_histories WHERE member_id > ? AND member_id <= ?",
                (low, low + HISTORY_SLICE),
            ).fetchone()
            yield HistoryRows(heads or b"", months or b"")
    finally:
        cursor.close()


def read_histories(
    conn: Connection, gone: Ints, then: Callable[[Histories, int], None], after_day: int | None = None
) -> tuple[int, Ints]:
    """Every member's history row, a slice at a time in member order, without the members in `gone`; when
    `after_day` (a day number) is given, also without the members who bought after it, whose ids come back
    (ascending, none of `gone`): their rows as of that day are made again from their monthly totals. Each slice's
    rows go as columns to `then(columns, start)`, `start` being the place of the slice's first member among all
    the members read, one slice after the other; also returned: how many members were read.

    While SQLite reads a slice (the driver lets go of the interpreter lock while SQLite works), threads make the
    columns of the slices before and give them to `then` (numpy lets go of the lock too), so reading and working
    overlap on a machine with two cores."""
    read = 0
    later = [np.zeros(0, dtype=np.int64)]
    # One flag per member id up to the highest of `gone`, and one more, unset, for every id above it.
    gone_flags = np.zeros(int(gone.max()) + 2 if len(gone) else 1, dtype=np.bool_)
    gone_flags[gone] = True
    with ThreadPoolExecutor(max_workers=min(os.cpu_count() or 1, READ_THREADS)) as pool:
        working = []
        for rows in _history_slices(conn):
            records = rows.records()
            ids = records.head["member_id"]
            leave = np.take(gone_flags, ids, mode="clip")
            if after_day is not None:
                bought_later = records.last_days() > after_day
                later.append(ids[bought_later].astype(np.int64))
                leave |= bought_later
            kept = records.without(leave)
            working.append(pool.submit(lambda part, start: then(Histories.parse(part), start), kept, read))
            read += len(kept.head)
        for work in working:
            work.result()
    later_buyers = np.concatenate(later)
    if len(gone):
        later_buyers = later_buyers[~np.isin(later_buyers, gone)]
    return read, later_buyers


_TOTALS = text(
    """SELECT member_id, month, spend_fen, days_mask, first_day_spend_fen, sales FROM member_month_totals
       WHERE member_id IN :members ORDER BY member_id, month"""
).bindparams(bindparam("members", expanding=True))


def _month_rows(conn: Connection, members: list[int], month: int) -> tuple[MonthRows, int]:
    """The monthly totals of `members` up to `month` (a month key), ordered by member and month, and how many
    sales their months after it hold."""
    found: list[Any] = []
    for start in range(0, len(members), aggregates.CHUNK):
        found += conn.execute(_TOTALS, {"members": members[start : start + aggregates.CHUNK]}).all()
    table = np.array(found, dtype=np.int64).reshape(-1, 6)
    after = table[:, 1] > month
    kept = table[~after]
    return MonthRows(*(np.ascontiguousarray(kept[:, j]) for j in range(5))), int(table[after, 5].sum())


def _joined(conn: Connection, end: Any) -> Ints:
    """The ids of the members who joined before `end` (a driver value). Members are never deleted, so their ids
    are usually 1 to the highest, none missing: then only the few who joined since are read, and the rest is a
    range. Otherwise the joined_at index answers it alone, without reading a member's row."""
    # Two statements: SQLite answers each alone from the table's b-tree (a count of its pages' cells, the last
    # key) but scans every member's row for the two together.
    count = conn.execute(select(func.count()).select_from(Member)).scalar_one()
    top = conn.execute(select(func.coalesce(func.max(Member.id), 0))).scalar_one()
    if count != top:
        return _int_columns(conn, ("id",), "members", "joined_at < {p}", (end,))[0]
    (late,) = _int_columns(conn, ("id",), "members", "joined_at >= {p}", (end,))
    kept = np.ones(int(top) + 1, dtype=np.bool_)
    kept[0] = False
    kept[late] = False
    return np.flatnonzero(kept).astype(np.int64)


def _distinct_sorted(*ids: Ints) -> Ints:
    """The ids (positive, as row ids are) found in any of the arrays, in order, without sorting them."""
    if not any(len(found) for found in ids):
        return np.zeros(0, dtype=np.int64)
    present = np.zeros(max(int(found.max()) for found in ids if len(found)) + 1, dtype=np.bool_)
    for found in ids:
        present[found] = True
    return np.flatnonzero(present).astype(np.int64)


def _member_numbers(conn: Connection, ids: Any) -> MemberNumbers:
    """Member and card numbers in `ids` order (sorted), for the command line's file."""
    wanted = set(ids.tolist())
    rows = conn.execute(select(Member.id, Member.member_no, Member.card_no).order_by(Member.id))
    found = [(no, card) for member_id, no, card in rows if member_id in wanted]
    return MemberNumbers([no for no, _ in found], [card for _, card in found])


def _counts(seg: Segments) -> dict[str, dict[str, int]]:
    def tally(codes: Ints, names: tuple[str, ...]) -> dict[str, int]:
        found = np.bincount(codes[codes >= 0], minlength=len(names))
        return {name: int(found[i]) for i, name in enumerate(names)}

    return {
        "pyramid": tally(seg.pyramid, PYRAMID),
        "rfm": tally(seg.rfm_class, RFM_CLASSES),
        "lifecycle": tally(seg.stage, STAGES),
        "model": tally(seg.model, MODELS),
        "churn_warning": {"yes": int(seg.churn_warning.sum())},
        **{f"{MOVES_KEY}{month}": moved for month, moved in seg.moves.items()},
    }


class _Stopwatch:
    """Wall and CPU seconds of named phases; time between a lap without a name and the next is not counted."""

    def __init__(self) -> None:
        self.phases: dict[str, tuple[float, float]] = {}
        self._mark = (time.perf_counter(), time.process_time())

    def lap(self, name: str | None = None) -> None:
        now = (time.perf_counter(), time.process_time())
        if name is not None:
            self.phases[name] = (now[0] - self._mark[0], now[1] - self._mark[1])
        self._mark = now


class Refresher:
    """One refresh (see SegmentService.refresh)."""

    def __init__(self, db: Database, operator: Operator, clock: Clock) -> None:
        self.db = db
        self.operator = operator
        self.clock = clock

    def latest_day(self, timezone: str) -> dt.date:
        """Yesterday in the store's time zone: the last whole day."""
        return self.clock.now().astimezone(ZoneInfo(timezone)).date() - dt.timedelta(days=1)

    def refresh(
        self,
        as_of: dt.date | None = None,
        horizon_days: int | None = None,
        progress: Progress | None = None,
        recount: bool = False,
        with_numbers: bool = False,
        per_member: bool = True,
    ) -> SegmentReport:
        """Segments as of the end of `as_of` (default yesterday), stored when that is the latest whole day or later.
        All of it (reading, computing, storing) runs in a process of its own."""
        step = progress or (lambda _d, _t, _w: True)
        settings = self.db.read(read_settings)
        timezone = settings.store_timezone
        today = self.clock.now().astimezone(ZoneInfo(timezone)).date()
        as_of = as_of or self.latest_day(timezone)
        if as_of > today:
            raise ValidationError(
                S("Errors", "The as-of date {date} is in the future; the latest day with figures is today."),
                field="as_of",
                date=as_of.isoformat(),
            )
        options = SegmentOptions.from_settings(settings, horizon_days)
        work = partial(_refresh, self.operator, self.clock, as_of, options, timezone, recount, with_numbers, per_member)
        return run_job(self.db, work, step, "segments")

    def _refresh(
        self,
        as_of: dt.date,
        options: SegmentOptions,
        timezone: str,
        step: Progress,
        recount: bool,
        with_numbers: bool,
    ) -> SegmentReport:
        started = time.perf_counter()
        watch = _Stopwatch()
        if not step(0, STEPS, S("Segments", "Counting monthly totals")):
            raise RefreshCancelled()
        if recount:
            self.db.write(lambda s: aggregates.rebuild_all(s.connection(), timezone))
            self.db.write(lambda s: spend_months.rebuild(s.connection(), timezone))
        else:
            aggregates.ensure_month_totals(self.db, timezone)
        if not step(1, STEPS, S("Segments", "Reading members and totals")):
            raise RefreshCancelled()
        end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), ZoneInfo(timezone))
        watch.lap()
        # One moment of the store for every statement of the read (PostgreSQL too): the room made for the
        # buyers' figures fits the rows read, and the members, histories and monthly totals agree.
        ids, numbers, buyers, later = self.db.read_snapshot(
            lambda s: self._read(s.connection(), as_of, end, timezone, options.period_months, with_numbers)
        )
        watch.lap("read")
        if not step(2, STEPS, S("Segments", "Computing segments and fitting the models")):
            raise RefreshCancelled()
        watch.lap()
        measured = measure(ids, buyers, as_of, options)
        del buyers
        segments, fit = score(measured, options)
        del measured
        report = SegmentReport(
            as_of, options.horizon_days, segments, fit, numbers, False, later, len(ids), _counts(segments)
        )
        report.phases = watch.phases
        watch.lap("compute")
        if as_of >= self.latest_day(timezone):
            if not step(3, STEPS, S("Segments", "Storing the results")):
                raise RefreshCancelled()
            watch.lap()
            duration = int((time.perf_counter() - started) * 1000)
            self.db.write(lambda s: self._store(s, segments, report, duration))
            report.stored = True
            watch.lap("store")
        step(STEPS, STEPS, S("Segments", "Done"))
        return report

    def _read(
        self, conn: Connection, as_of: dt.date, end: dt.datetime, timezone: str, period_months: int, with_numbers: bool
    ) -> tuple[Any, MemberNumbers, BuyerFigures, int]:
        values = DriverValues(sqlite=conn.dialect.name == "sqlite")
        joined = _joined(conn, values(end))
        # The few anonymised members come from their own small index and are taken out here.
        (gone,) = _int_columns(conn, ("id",), "members", "status = {p}", (values(MemberStatus.ANONYMISED),))
        if len(gone):
            joined = joined[~np.isin(joined, gone)]
        buyers = BuyerFigures.empty(most_histories(conn), as_of, period_months)
        stored, later_buyers = read_histories(conn, gone, buyers.put, day_number(as_of))
        made, later = self._as_of_day(conn, buyers, stored, later_buyers, as_of, timezone)
        buyers = buyers.first(stored + made)
        # Members who joined after the as-of day are left out, unless they had bought by then (imported history).
        ids = _distinct_sorted(joined, buyers.member_id)
        numbers = _member_numbers(conn, ids) if with_numbers else MemberNumbers([], [])
        return ids, numbers, buyers, later

    def _as_of_day(
        self,
        conn: Connection,
        buyers: BuyerFigures,
        stored: int,
        later_buyers: Ints,
        as_of: dt.date,
        timezone: str,
    ) -> tuple[int, int]:
        """The members who bought after the as-of day (today's buyers, for the latest day; left out of the `stored`
        figures read into `buyers`) have their history made again from their monthly totals up to the as-of
        month, that month's later purchases taken off, and their figures put after the others' (unless they had
        not bought by then). Returns how many were put, and how many sales came after the as-of day."""
        if not len(later_buyers):
            return 0, 0
        month = aggregates.month_key(as_of)
        rows, later = _month_rows(conn, later_buyers.tolist(), month)
        partial = (rows.month == month) & ((rows.days_mask >> as_of.day) != 0)
        if partial.any():
            later += self._clip_as_of_month(conn, rows, partial, as_of, timezone)
        made = Histories.parse(HistoryRows.from_month_rows(rows).records())
        buyers.put(made, stored)
        return len(made.member_id), later

    def _clip_as_of_month(
        self, conn: Connection, rows: MonthRows, partial: Bools, as_of: dt.date, timezone: str
    ) -> int:
        """Rows of the as-of month with purchases after the as-of day lose those purchases: the sales from the end
        of the as-of day to the end of its month (one range query, not one per member) are taken off. The month's
        first purchase day stays unless every purchase was later (the row then empties). Returns how many sales
        were left out."""
        tz = ZoneInfo(timezone)
        end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), tz)
        next_month = (as_of.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        later: dict[int, tuple[int, int]] = {}
        for member, _day, spend, sales in aggregates.sale_days(
            conn, timezone, until=dt.datetime.combine(next_month, dt.time(), tz), since=end
        ):
            before = later.get(member, (0, 0))
            later[member] = (before[0] + spend, before[1] + sales)
        kept_days = (1 << as_of.day) - 1
        left_out = 0
        for i in np.flatnonzero(partial):
            spend, sales = later.get(int(rows.member_id[i]), (0, 0))
            left_out += sales
            mask = int(rows.days_mask[i]) & kept_days
            rows.spend_fen[i] = rows.spend_fen[i] - spend if mask else 0
            rows.first_day_spend_fen[i] = rows.first_day_spend_fen[i] if mask else 0
            rows.days_mask[i] = mask
        return left_out

    def _store(self, session: Session, segments: Segments, report: SegmentReport, duration_ms: int) -> None:
        conn = session.connection()
        conn.execute(delete(MemberSegment))
        columns = [c.name for c in MemberSegment.__table__.columns]  # the order of _result_rows' values
        as_of = DriverValues(sqlite=conn.dialect.name == "sqlite")(report.as_of)
        for rows in _result_rows(segments, as_of):
            bulk_insert(conn, MemberSegment.__tablename__, columns, rows)
        run_id = conn.execute(
            insert(SegmentRun)
            .values(
                as_of=report.as_of,
                horizon_days=report.horizon_days,
                model=report.fit.model,
                parameters=parameters(report.fit),
                counts=report.counts,
                members=report.members,
                duration_ms=duration_ms,
                created_at=self.clock.now(),
            )
            .returning(SegmentRun.id)
        ).scalar_one()
        segment_counts.record(conn, run_id, segments)  # the charts' counts per home branch


WRITE_SLICE = 50_000


def _optional(values: Floats, scale: float) -> list[int | None]:
    """Rounded (half to even, as round() does) to integers; empty where there is no figure."""
    finite = np.isfinite(values)
    cells = np.rint(np.where(finite, values, 0.0) * scale).astype(np.int64).astype(object)
    cells[~finite] = None
    return cells.tolist()


def _labels(codes: Ints, names: tuple[str, ...]) -> list[str | None]:
    """Codes to names; a code of -1 to an empty cell."""
    table = np.array([*names, None], dtype=object)
    return table[codes].tolist()


def _result_rows(seg: Segments, as_of: Any) -> Iterator[list[tuple[Any, ...]]]:
    """member_segments rows in slices, made column by column (numpy), in the table's column order."""
    for start in range(0, len(seg.member_ids), WRITE_SLICE):
        part = slice(start, start + WRITE_SLICE)
        recency = seg.recency_days[part].astype(object)
        recency[seg.recency_days[part] < 0] = None
        yield list(
            zip(
                seg.member_ids[part].tolist(),
                itertools.repeat(as_of),
                recency.tolist(),
                seg.frequency[part].tolist(),
                seg.monetary_fen[part].tolist(),
                seg.r_score[part].tolist(),
                seg.f_score[part].tolist(),
                seg.m_score[part].tolist(),
                _labels(seg.rfm_class[part], RFM_CLASSES),
                _labels(seg.pyramid[part], PYRAMID),
                _labels(seg.stage[part], STAGES),
                _optional(seg.p_alive[part], 1000),
                _optional(seg.expected_purchases[part], 1000),
                _optional(seg.expected_spend_fen[part], 1),
                _optional(seg.value_fen[part], 1),
                seg.churn_warning[part].tolist(),
                _labels(seg.model[part], MODELS),
            )
        )


def parameters(fit: Fit) -> dict[str, float]:
    found: dict[str, float] = {}
    if fit.bgnbd is not None:
        found.update(r=fit.bgnbd.r, alpha=fit.bgnbd.alpha, a=fit.bgnbd.a, b=fit.bgnbd.b)
    if fit.gamma_gamma is not None:
        found.update(p=fit.gamma_gamma.p, q=fit.gamma_gamma.q, gamma=fit.gamma_gamma.gamma)
    return found


def _refresh(
    operator: Operator,
    clock: Clock,
    as_of: dt.date,
    options: SegmentOptions,
    timezone: str,
    recount: bool,
    with_numbers: bool,
    per_member: bool,
    db: Database,
    progress: Progress,
) -> SegmentReport:
    """The refresh as its own process runs it (a module-level function: it crosses to a spawned process too)."""
    report = Refresher(db, operator, clock)._refresh(as_of, options, timezone, progress, recount, with_numbers)
    if not per_member:
        report.segments = None
    return report
