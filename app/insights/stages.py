"""Every buying member's lifecycle stage at the end of given months, worked out from the members' histories the way
the refresh does (`app.insights.compute.measure`): for the charts' list of who moved into a stage in a month
(app/charts/moves.py), which the refresh counts but does not keep per member."""

from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import Connection, select

from app.insights.compute import (
    MOVE_MONTHS,
    BuyerFigures,
    Histories,
    Ints,
    SegmentOptions,
    _lifecycle,
    _month_end,
)
from app.insights.refresh import read_histories
from db.enums import MemberStatus
from db.models import Member


def month_end(month: int) -> dt.date:
    """The last day of a month index (year × 12 + month − 1)."""
    return dt.date((month + 1) // 12, (month + 1) % 12 + 1, 1) - dt.timedelta(days=1)


def stages_at_month_ends(conn: Connection, months: tuple[int, ...], options: SegmentOptions) -> tuple[Ints, list[Ints]]:
    """The members who had bought by the end of the last of `months` (month indexes, ascending, within the 12 months
    before the latest month with a purchase; anonymised members left out), ids ascending, and their stage code (an
    index of `labels.STAGES`) at the end of each month. A month end counts only the purchases up to it, so the
    stored histories serve as they are, later purchases and all."""
    gone = np.fromiter(conn.scalars(select(Member.id).where(Member.status == MemberStatus.ANONYMISED)), dtype=np.int64)
    parts: dict[int, Histories] = {}
    read_histories(conn, gone, lambda part, start: parts.__setitem__(start, part))
    hist = Histories.joined([parts[start] for start in sorted(parts)])
    latest = max(months[-1], int(hist.head_month.max()) if len(hist.head_month) else months[-1])
    if latest - months[0] > MOVE_MONTHS:
        raise ValueError(f"month ends further back than {MOVE_MONTHS} months before the latest purchase")
    buyers = BuyerFigures.of(hist, dt.date(latest // 12, latest % 12 + 1, 1), MOVE_MONTHS)
    wanted = {latest - month: month for month in months}
    stages: dict[int, Ints] = {}
    bought = np.zeros(0, dtype=np.bool_)
    for back, purchase_days, last_day, months_bought in buyers.ends():
        if back in wanted:
            end = _month_end(wanted[back])
            stages[back] = _lifecycle(buyers.first_day, purchase_days, last_day, months_bought, end, options)[-1]
            if wanted[back] == months[-1]:
                bought = purchase_days > 0
    order = np.argsort(hist.member_id[bought], kind="stable")
    return hist.member_id[bought][order], [stages[latest - month][bought][order] for month in months]
