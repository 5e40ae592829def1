"""Every buying member's lifecycle stage at the end of given months, worked out from the monthly totals the way the
refresh does (`app.insights.compute.measure`): for the charts' list of who moved into a stage in a month
(app/charts/moves.py), which the refresh counts but does not keep per member."""

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
from app.insights.refresh import _distinct_sorted, _month_rows
from db.enums import MemberStatus
from db.models import Member


def month_end(month: int) -> dt.date:
    """The last day of a month index (year × 12 + month − 1)."""
    return dt.date((month + 1) // 12, (month + 1) % 12 + 1, 1) - dt.timedelta(days=1)


def stages_at_month_ends(conn: Connection, months: tuple[int, ...], options: SegmentOptions) -> tuple[Ints, list[Ints]]:
    """The members who had bought by the end of the last of `months` (month indexes, ascending; anonymised members
    left out), ids ascending, and their stage code (an index of `labels.STAGES`) at the end of each month."""
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
