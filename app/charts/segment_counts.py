"""Members per segment code of each home branch, counted by the segment refresh as it stores its figures (one call
in `app.insights.refresh`, in its transaction) from the figures it already holds: the pyramid, RFM, lifecycle and
recency × frequency charts of one branch (and the whole store's recency × frequency) read a few rows instead of
joining a million segments with their members. Like the whole store's counts (`segment_runs.counts`) they are as
of the refresh: a member who changes home branch afterwards moves at the next refresh."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection, delete, insert, select, text
from sqlalchemy.orm import Session

from app.insights.labels import PYRAMID, RFM_CLASSES, STAGES
from db.models import SegmentBranchCount

if TYPE_CHECKING:
    from app.insights.compute import Ints, Segments

HEAT = "heat"
"""The recency × frequency chart's rows: code = recency score × 10 + frequency score."""


def _home_branches(conn: Connection, member_ids: Ints) -> Ints:
    """The home branch of each of `member_ids` (ascending), from the (home branch, tier) index: one text of ids per
    branch, read by numpy, not a Python object per member."""
    import numpy as np

    concat = "group_concat(id)" if conn.dialect.name == "sqlite" else "string_agg(CAST(id AS TEXT), ',')"
    ids, branches = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for branch_id, found in conn.execute(text(f"SELECT home_branch_id, {concat} FROM members GROUP BY home_branch_id")):
        these = np.fromstring(found, dtype=np.int64, sep=",")
        ids.append(these)
        branches.append(np.full(len(these), int(branch_id), dtype=np.int64))
    every_id, every_branch = np.concatenate(ids), np.concatenate(branches)
    order = np.argsort(every_id)
    return every_branch[order][np.searchsorted(every_id[order], member_ids)]


def record(conn: Connection, run_id: int, seg: Segments) -> None:
    """Count the refresh `run_id`'s figures per home branch; the counts of earlier refreshes go."""
    import numpy as np

    conn.execute(delete(SegmentBranchCount))
    if not len(seg.member_ids):
        return
    branches = _home_branches(conn, seg.member_ids)
    charts = (
        ("pyramid", seg.pyramid, PYRAMID),
        ("rfm", seg.rfm_class, RFM_CLASSES),
        ("lifecycle", seg.stage, STAGES),
        (HEAT, seg.r_score * 10 + seg.f_score, tuple(str(code) for code in range(100))),
    )
    rows = []
    for chart, codes, names in charts:
        kept = codes >= 0  # -1: no class (a member who never bought has no RFM class)
        width = len(names)
        found = np.bincount(branches[kept] * width + codes[kept], minlength=width).tolist()
        for key, members in enumerate(found):
            if members:
                branch_id, code = divmod(key, width)
                rows.append(
                    {"run_id": run_id, "branch_id": branch_id, "chart": chart, "code": names[code], "members": members}
                )
    conn.execute(insert(SegmentBranchCount), rows)


def counts(session: Session, run_id: int, chart: str, branch_id: int | None) -> dict[str, int] | None:
    """Members per code of `chart` in the branch (None: the whole store) as the refresh `run_id` counted them;
    None when it did not (a refresh stored before migration 0020)."""
    rows = session.execute(
        select(SegmentBranchCount.branch_id, SegmentBranchCount.code, SegmentBranchCount.members).where(
            SegmentBranchCount.run_id == run_id, SegmentBranchCount.chart == chart
        )
    ).all()
    if not rows:
        return None
    found: dict[str, int] = {}
    for branch, code, members in rows:
        if branch_id in (None, branch):
            found[code] = found.get(code, 0) + int(members)
    return found
