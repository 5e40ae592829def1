"""Who moved into a lifecycle stage in a month: the segment refresh keeps only how many did (its counts "moves
YYYY-MM"), so a click on the moves chart works the stages out again from the monthly totals, the same way the
refresh does (app/insights/compute.py): the stages at the end of the month before and at the end of the month (the
refresh's own stored stage for its as-of month), for every member who had bought by then. On the data the refresh
read, the members listed are exactly those it counted (tests/services/test_charts.py holds the two equal)."""

from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import Connection, select

from app.insights.aggregates import month_key
from app.insights.compute import (
    Ints,
    SegmentOptions,
    _lifecycle,
    _month_index,
    _month_start_days,
    _Months,
    _PerMember,
    day_number,
)
from app.insights.labels import STAGES
from app.insights.refresh import _distinct_sorted, _month_rows
from db.enums import MemberStatus
from db.models import Member, MemberSegment


def month_end(month: int) -> dt.date:
    """The last day of a month index (year × 12 + month − 1)."""
    return dt.date((month + 1) // 12, (month + 1) % 12 + 1, 1) - dt.timedelta(days=1)


def _stages(conn: Connection, months: tuple[int, ...], options: SegmentOptions) -> tuple[Ints, list[Ints]]:
    """The members who had bought by the end of the last of `months` (month indexes, ascending) and their stage at
    the end of each month, as the refresh works them out (`app.insights.compute.measure`)."""
    rows, _later = _month_rows(conn, month_key(month_end(months[-1])))
    gone = np.fromiter(conn.scalars(select(Member.id).where(Member.status == MemberStatus.ANONYMISED)), dtype=np.int64)
    rows = rows.where((rows.days_mask != 0) & ~np.isin(rows.member_id, gone))
    member_ids = _distinct_sorted(rows.member_id)
    per = _PerMember(rows, member_ids)
    month_index = _month_index(rows.month)
    starts = _month_start_days(month_index)
    last_days = starts + np.frexp(rows.days_mask.astype(np.float64))[1].astype(np.int64) - 1
    first_masks = rows.days_mask[per.starts]
    first_day = per.first(starts, -1)
    first_day[per.members] += np.bitwise_count((first_masks & -first_masks) - 1).astype(np.int64)
    ends = _Months(per, month_index, last_days, np.bitwise_count(rows.days_mask).astype(np.int64))
    stages = [
        _lifecycle(
            first_day,
            *ends.at(ends.rows_up_to(m), ends.rows_up_to(m - 12)),
            day_number(month_end(m)),
            options,
        )[-1]
        for m in months
    ]
    return member_ids, stages


def moved_into(conn: Connection, as_of: dt.date, month: str, stage: str, options: SegmentOptions) -> list[int]:
    """The members whose stage changed to `stage` in `month` ("YYYY-MM"): from the end of the month before to the
    end of the month, or to the as-of day in the refresh's own month."""
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1
    code = STAGES.index(stage)
    registered = STAGES.index("registered")
    as_of_month = as_of.year * 12 + as_of.month - 1
    if index == as_of_month:
        ids, (before,) = _stages(conn, (index - 1,), options)
        now = np.fromiter(
            conn.scalars(select(MemberSegment.member_id).where(MemberSegment.lifecycle_stage == stage)),
            dtype=np.int64,
        )
        position = np.searchsorted(ids, now)
        found = position < len(ids)
        found[found] = ids[position[found]] == now[found]
        was = np.full(len(now), registered, dtype=np.int64)
        was[found] = before[position[found]]
        return sorted(now[was != code].tolist())
    ids, (before, after) = _stages(conn, (index - 1, index), options)
    return ids[(before != after) & (after == code)].tolist()
