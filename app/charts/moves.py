"""Who moved into a lifecycle stage in a month: the segment refresh keeps only how many did (its counts "moves
YYYY-MM"), so a click on the moves chart works the stages out again from the monthly totals, the same way the
refresh does (app/insights/compute.py): the stages at the end of the month before and at the end of the month (the
refresh's own stored stage for its as-of month), for every member who had bought by then. On the data the refresh
read, the members listed are exactly those it counted (tests/services/test_charts.py holds the two equal)."""

from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import Connection, select

from app.insights.compute import SegmentOptions
from app.insights.labels import STAGES
from app.insights.stages import stages_at_month_ends
from db.models import MemberSegment


def moved_into(conn: Connection, as_of: dt.date, month: str, stage: str, options: SegmentOptions) -> list[int]:
    """The members whose stage changed to `stage` in `month` ("YYYY-MM"): from the end of the month before to the
    end of the month, or to the as-of day in the refresh's own month."""
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1
    code = STAGES.index(stage)
    registered = STAGES.index("registered")
    as_of_month = as_of.year * 12 + as_of.month - 1
    if index == as_of_month:
        ids, (before,) = stages_at_month_ends(conn, (index - 1,), options)
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
    ids, (before, after) = stages_at_month_ends(conn, (index - 1, index), options)
    return ids[(before != after) & (after == code)].tolist()
