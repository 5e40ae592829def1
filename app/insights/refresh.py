"""The segment refresh: monthly totals in, per-member segments out (stored, and for the command line's file).
Heavy imports (numpy): loaded only when a refresh runs.

The whole refresh (read, compute, store) runs in a process of its own (app/child_process.py: forked on Linux,
spawned on Windows), with its own connections, so a refresh started from the GUI leaves the counter's interpreter
free and its memory small. On SQLite the monthly totals come over as one text per column and slice of rows, parsed
by numpy; the results go back column by column through executemany.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Connection, delete, insert, select
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
    Fit,
    Floats,
    Ints,
    MonthRows,
    SegmentOptions,
    Segments,
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
from db.models import Member, MemberSegment, SegmentRun

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


MONTH_SHIFT = 31
"""The month and the day bits travel packed in one integer (a day mask needs 31 bits): fewer values to convert."""


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


TEXT_SLICE = 1_000_000
"""Rows per query when SQLite hands a big table over as text (one text per column and slice of row ids)."""


def _where(conditions: list[str]) -> str:
    return f" WHERE {' AND '.join(conditions)}" if conditions else ""


def _int_columns(
    conn: Connection,
    columns: tuple[str, ...],
    table: str,
    where: str | None = None,
    params: tuple[Any, ...] = (),
    by_row_id: bool = False,
) -> list[Ints]:
    """Integer `columns` (SQL expressions, never NULL; `{p}` for the driver's parameter marker) of the rows of
    `table` that match `where`, one int64 array per column.

    On SQLite the rows come back as one comma-separated text per column, made by SQLite and read by numpy, both in
    C: the driver makes no Python object per value, which is where handing millions of rows over one by one
    spends most of its time (bench/README.md). `by_row_id` reads a big table in slices of row ids (a range of
    its b-tree each), so no text grows past a few tens of megabytes. Elsewhere through `_int_table`."""
    conditions = [where] if where else []
    if conn.dialect.name != "sqlite":
        sql = f"SELECT {', '.join(columns)} FROM {table}{_where(conditions)}"
        found = _int_table(conn, sql, params, len(columns))
        return [np.ascontiguousarray(found[:, j]) for j in range(len(columns))]
    ranges: list[tuple[int, ...]] = [()]
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if by_row_id:
            top = int(cursor.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {table}").fetchone()[0])
            ranges = [(low, low + TEXT_SLICE) for low in range(0, top, TEXT_SLICE)]
            conditions.append("rowid > {p} AND rowid <= {p}")
        texts = ", ".join(f"group_concat({column})" for column in columns)
        sql = f"SELECT COUNT(*), {texts} FROM {table}{_where(conditions)}"
        parts: list[list[Ints]] = [[np.zeros(0, dtype=np.int64)] for _ in columns]
        for bounds in ranges:
            count, *found = cursor.execute(sql.format(p="?"), (*params, *bounds)).fetchone()
            if count:
                for part, text in zip(parts, found, strict=True):
                    part.append(np.fromstring(text, dtype=np.int64, sep=","))
    finally:
        cursor.close()
    columns_found = []
    while parts:  # each column's slices let go as soon as it is whole
        columns_found.append(np.concatenate(parts.pop(0)))
    return columns_found


def _month_rows(conn: Connection, month: int) -> tuple[MonthRows, int]:
    """The monthly totals up to `month` (a month key), ordered by member and month, and how many sales the
    months after it hold (one pass over the table for both)."""
    member_id, packed, spend, first_day_spend, later = _int_columns(
        conn,
        (
            "member_id",
            f"month * {1 << MONTH_SHIFT} + days_mask",
            "spend_fen",
            "first_day_spend_fen",
            "CASE WHEN month > {p} THEN sales ELSE 0 END",
        ),
        "member_month_totals",
        params=(month,),
        by_row_id=True,
    )
    months = packed >> MONTH_SHIFT
    if (months > month).any():
        kept = months <= month
        member_id, packed, spend, first_day_spend, months = (
            column[kept] for column in (member_id, packed, spend, first_day_spend, months)
        )
    # Rows come in the order they were written: member by member from a recount, then each purchase's month as it
    # came. A stable sort (timsort) of nearly sorted keys costs little more than checking them.
    keys = (member_id << 20) | months
    if (keys[1:] < keys[:-1]).any():
        order = np.argsort(keys, kind="stable")
        member_id, packed, spend, first_day_spend, months = (
            column[order] for column in (member_id, packed, spend, first_day_spend, months)
        )
    mask = packed & ((1 << MONTH_SHIFT) - 1)
    return MonthRows(member_id, months, spend, mask, first_day_spend), int(later.sum())


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
        ids, numbers, rows, later = self.db.read(
            lambda s: self._read(s.connection(), as_of, end, timezone, with_numbers)
        )
        watch.lap("read")
        if not step(2, STEPS, S("Segments", "Computing segments and fitting the models")):
            raise RefreshCancelled()
        watch.lap()
        measured = measure(ids, rows, as_of, options)  # empties the rows as soon as it has read them
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
        self, conn: Connection, as_of: dt.date, end: dt.datetime, timezone: str, with_numbers: bool
    ) -> tuple[Any, MemberNumbers, MonthRows, int]:
        values = DriverValues(sqlite=conn.dialect.name == "sqlite")
        # The joined_at index answers this alone, without reading a member's row; the few anonymised members
        # come from their own small index and are taken out here.
        (joined,) = _int_columns(conn, ("id",), "members", "joined_at < {p}", (values(end),))
        (gone,) = _int_columns(conn, ("id",), "members", "status = {p}", (values(MemberStatus.ANONYMISED),))
        if len(gone):
            joined = joined[~np.isin(joined, gone)]
        month = aggregates.month_key(as_of)
        rows, later = _month_rows(conn, month)
        if len(gone):
            rows = rows.where(~np.isin(rows.member_id, gone))
        partial = (rows.month == month) & ((rows.days_mask >> as_of.day) != 0)
        if partial.any():
            later += self._clip_as_of_month(conn, rows, partial, as_of, timezone)
        if (rows.days_mask == 0).any():
            rows = rows.where(rows.days_mask != 0)
        # Members who joined after the as-of day are left out, unless they had bought by then (imported history).
        ids = _distinct_sorted(joined, rows.member_id)
        numbers = _member_numbers(conn, ids) if with_numbers else MemberNumbers([], [])
        return ids, numbers, rows, later

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
