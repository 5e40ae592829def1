"""The segment refresh: monthly totals in, per-member segments out (stored, and for the command line's file).
Heavy imports (numpy, scipy): loaded only when a refresh runs.

The whole refresh (read, compute, store) runs in a process of its own (app/child_process.py: forked on Linux,
spawned on Windows), with its own connections, so a refresh started from the GUI leaves the counter's interpreter
free and its memory small. The monthly totals come straight from the driver as integers, packed (month and day bits
in one value); the results go back column by column through executemany.
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
    compute,
)
from app.insights.labels import PYRAMID, RFM_CLASSES, STAGES
from app.security.operator import Operator
from app.settings import read_settings
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


def _month_table(conn: Connection, month: int) -> Ints:
    """The monthly totals up to `month` as columns (member, month, spend, days, first day's spend), ordered by
    member and month."""
    packed = _int_table(
        conn,
        f"""SELECT member_id, month * {1 << MONTH_SHIFT} + days_mask, spend_fen, first_day_spend_fen
            FROM member_month_totals WHERE month <= {{p}}""",
        (month,),
        4,
    )
    if len(packed) > 1:
        keys = packed[:, :2]
        if ((keys[1:, 0] < keys[:-1, 0]) | ((keys[1:, 0] == keys[:-1, 0]) & (keys[1:, 1] < keys[:-1, 1]))).any():
            packed = packed[np.lexsort((packed[:, 1], packed[:, 0]))]
    table = np.empty((len(packed), 5), dtype=np.int64)
    table[:, 0] = packed[:, 0]
    table[:, 1] = packed[:, 1] >> MONTH_SHIFT
    table[:, 2] = packed[:, 2]
    table[:, 3] = packed[:, 1] & ((1 << MONTH_SHIFT) - 1)
    table[:, 4] = packed[:, 3]
    return table


def _distinct_sorted(values: Ints) -> Ints:
    ordered = np.sort(values)
    first = np.ones(len(ordered), dtype=np.bool_)
    first[1:] = ordered[1:] != ordered[:-1]
    return ordered[first]


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
        if not step(0, STEPS, S("Segments", "Counting monthly totals")):
            raise RefreshCancelled()
        if recount:
            self.db.write(lambda s: aggregates.rebuild_all(s.connection(), timezone))
        else:
            aggregates.ensure_month_totals(self.db, timezone)
        if not step(1, STEPS, S("Segments", "Reading members and totals")):
            raise RefreshCancelled()
        end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), ZoneInfo(timezone))
        ids, numbers, rows, later = self.db.read(
            lambda s: self._read(s.connection(), as_of, end, timezone, with_numbers)
        )
        if not step(2, STEPS, S("Segments", "Computing segments and fitting the models")):
            raise RefreshCancelled()
        segments, fit = compute(ids, rows, as_of, options)
        del rows
        report = SegmentReport(
            as_of, options.horizon_days, segments, fit, numbers, False, later, len(ids), _counts(segments)
        )
        if as_of >= self.latest_day(timezone):
            if not step(3, STEPS, S("Segments", "Storing the results")):
                raise RefreshCancelled()
            duration = int((time.perf_counter() - started) * 1000)
            self.db.write(lambda s: self._store(s, segments, report, duration))
            report.stored = True
        step(STEPS, STEPS, S("Segments", "Done"))
        return report

    def _read(
        self, conn: Connection, as_of: dt.date, end: dt.datetime, timezone: str, with_numbers: bool
    ) -> tuple[Any, MemberNumbers, MonthRows, int]:
        values = DriverValues(sqlite=conn.dialect.name == "sqlite")
        anonymised = (values(MemberStatus.ANONYMISED),)
        joined = _int_table(
            conn, "SELECT id FROM members WHERE status <> {p} AND joined_at < {p}", (*anonymised, values(end)), 1
        )[:, 0]
        gone = _int_table(conn, "SELECT id FROM members WHERE status = {p}", anonymised, 1)[:, 0]
        month = aggregates.month_key(as_of)
        later = int(
            _int_table(
                conn,
                "SELECT CAST(COALESCE(SUM(sales), 0) AS BIGINT) FROM member_month_totals WHERE month > {p}",
                (month,),
                1,
            )[0, 0]
        )
        table = _month_table(conn, month)
        if len(gone):
            table = table[~np.isin(table[:, 0], gone)]
        partial = (table[:, 1] == month) & ((table[:, 3] >> as_of.day) != 0)
        if partial.any():
            later += self._clip_as_of_month(conn, table, partial, as_of, timezone)
        if (table[:, 3] == 0).any():
            table = table[table[:, 3] != 0]
        # Members who joined after the as-of day are left out, unless they had bought by then (imported history).
        ids = _distinct_sorted(np.concatenate((joined, table[:, 0])))
        numbers = _member_numbers(conn, ids) if with_numbers else MemberNumbers([], [])
        rows = MonthRows(*(np.ascontiguousarray(table[:, column]) for column in range(5)))
        return ids, numbers, rows, later

    def _clip_as_of_month(self, conn: Connection, table: Ints, partial: Bools, as_of: dt.date, timezone: str) -> int:
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
            spend, sales = later.get(int(table[i, 0]), (0, 0))
            left_out += sales
            mask = int(table[i, 3]) & kept_days
            table[i, 2:5] = (table[i, 2] - spend, mask, table[i, 4]) if mask else (0, 0, 0)
        return left_out

    def _store(self, session: Session, segments: Segments, report: SegmentReport, duration_ms: int) -> None:
        conn = session.connection()
        conn.execute(delete(MemberSegment))
        columns = [c.name for c in MemberSegment.__table__.columns]  # the order of _result_rows' values
        as_of = DriverValues(sqlite=conn.dialect.name == "sqlite")(report.as_of)
        for rows in _result_rows(segments, as_of):
            bulk_insert(conn, MemberSegment.__tablename__, columns, rows)
        conn.execute(
            insert(SegmentRun).values(
                as_of=report.as_of,
                horizon_days=report.horizon_days,
                model=report.fit.model,
                parameters=parameters(report.fit),
                counts=report.counts,
                members=report.members,
                duration_ms=duration_ms,
                created_at=self.clock.now(),
            )
        )


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
