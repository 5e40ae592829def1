"""Charts over the stored segments (the latest refresh): pyramid, RFM classes, recency × frequency, lifecycle
stages, and the lifecycle moves month by month. The branch is the member's home branch; the period does not apply
(segments are as of the refresh's day, which the notes name)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select

from app.charts import segment_counts
from app.charts.base import Ask
from app.charts.model import ChartData, ChartId, Look, Series
from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate
from app.insights.labels import PYRAMID, PYRAMID_LABELS, RFM_ACTIONS, RFM_CLASSES, RFM_LABELS, STAGE_LABELS, STAGES
from db.models import Member, MemberSegment, SegmentRun

NOT_COMPUTED = S("Charts", "Segments have not been computed yet: refresh them on the Segments page.")
MEMBERS = S("Charts", "Members")


def _t(text: str) -> str:
    return translate("Charts", text)


def _seg(text: str) -> str:
    return translate("Segments", text)


def _latest(ask: Ask) -> SegmentRun | None:
    return ask.session.scalar(select(SegmentRun).order_by(SegmentRun.id.desc()).limit(1))


def _as_of_note(run: SegmentRun) -> str:
    return _t(S("Charts", "Segments as of {date} (the latest refresh); the period filter does not apply.")).format(
        date=run.as_of.isoformat()
    )


def _segment_members(ask: Ask) -> Select[Any]:
    query = select(MemberSegment.member_id)
    if ask.filter.branch_id is not None:
        query = query.join(Member, Member.id == MemberSegment.member_id).where(
            Member.home_branch_id == ask.filter.branch_id
        )
    return query


def _counts(ask: Ask, column: Any) -> dict[Any, int]:
    query = select(column, func.count()).select_from(MemberSegment)
    if ask.filter.branch_id is not None:
        query = query.join(Member, Member.id == MemberSegment.member_id).where(
            Member.home_branch_id == ask.filter.branch_id
        )
    return {code: int(n) for code, n in ask.session.execute(query.group_by(column))}


class _ByCode:
    """Members per segment code, one bar per code."""

    def __init__(
        self, chart: ChartId, column: Any, codes: tuple[str, ...], labels: dict[str, str], x_title: str, counted: str
    ):
        self.chart = chart
        self.counted = counted
        """The refresh's own tally of the whole store (`segment_runs.counts`), read instead of every member."""
        self.column = column
        self.codes = codes
        self.labels = labels
        self.x_title = x_title

    def notes(self, run: SegmentRun) -> tuple[str, ...]:
        return (_as_of_note(run),)

    def figures(self, ask: Ask) -> ChartData:
        run = _latest(ask)
        if run is None:
            return ChartData(self.chart, Look.BARS, _t(self.x_title), _t(MEMBERS), empty=_t(NOT_COMPUTED))
        if ask.filter.branch_id is None:
            counts = run.counts.get(self.counted, {})
        else:
            stored = segment_counts.counts(ask.session, run.id, self.counted, ask.filter.branch_id)
            counts = _counts(ask, self.column) if stored is None else stored
        values = tuple(float(counts.get(code, 0)) for code in self.codes)
        empty = None if any(values) else _t(S("Charts", "No member of this branch has a segment."))
        return ChartData(
            self.chart,
            Look.BARS,
            _t(self.x_title),
            _t(MEMBERS),
            tuple(_seg(self.labels[code]) for code in self.codes),
            (Series(_t(MEMBERS), values),),
            self.codes,
            notes=self.notes(run),
            empty=empty,
        )

    def members(self, ask: Ask, key: str, series: int) -> Select[Any]:
        return _segment_members(ask).where(self.column == key)


class _Rfm(_ByCode):
    def notes(self, run: SegmentRun) -> tuple[str, ...]:
        return (
            _as_of_note(run),
            *(f"{_seg(RFM_LABELS[code])}：{_seg(RFM_ACTIONS[code])}" for code in reversed(RFM_CLASSES)),
        )


class RecencyFrequency:
    """Members by recency score (rows, 5 = most recent) and frequency score (columns, 5 = most often)."""

    def figures(self, ask: Ask) -> ChartData:
        x_title = _t(S("Charts", "Frequency score (5 = most often)"))
        y_title = _t(S("Charts", "Recency score (5 = most recent)"))
        run = _latest(ask)
        if run is None:
            return ChartData(ChartId.HEAT, Look.HEAT, x_title, y_title, empty=_t(NOT_COMPUTED))
        stored = segment_counts.counts(ask.session, run.id, segment_counts.HEAT, ask.filter.branch_id)
        counts = (
            _counts(ask, MemberSegment.r_score * 10 + MemberSegment.f_score)
            if stored is None
            else {int(code): n for code, n in stored.items()}
        )
        grid = tuple(tuple(counts.get(r * 10 + f, 0) for f in range(1, 6)) for r in range(1, 6))
        empty = None if any(map(any, grid)) else _t(S("Charts", "No member of this branch has bought yet."))
        return ChartData(
            ChartId.HEAT,
            Look.HEAT,
            x_title,
            y_title,
            tuple(f"R{r}" for r in range(1, 6)),
            keys=tuple(str(r) for r in range(1, 6)),
            heat=grid,
            columns=tuple(f"F{f}" for f in range(1, 6)),
            notes=(_as_of_note(run),),
            empty=empty,
        )

    def members(self, ask: Ask, key: str, series: int) -> Select[Any]:
        """`key` is the row (recency score), `series` the column (frequency score − 1)."""
        return _segment_members(ask).where(MemberSegment.r_score == int(key), MemberSegment.f_score == series + 1)


def _moves(run: SegmentRun) -> tuple[list[str], dict[str, list[float]], list[str]]:
    """The months of the refresh's moves, the members who moved into each stage per month, and the stages any
    member moved into (the chart's series, in STAGES order)."""
    months = sorted(key.removeprefix("moves ") for key in run.counts if key.startswith("moves "))
    into: dict[str, list[float]] = {stage: [0.0] * len(months) for stage in STAGES}
    for index, month in enumerate(months):
        for pair, n in run.counts[f"moves {month}"].items():
            into[pair.partition(">")[2]][index] += n
    return months, into, [stage for stage in STAGES if any(into[stage])]


class LifecycleMoves:
    """How many members moved into each stage, month by month (counted by the refresh for the whole store); a click
    works out who (app/charts/moves.py)."""

    def figures(self, ask: Ask) -> ChartData:
        x_title, y_title = _t(S("Charts", "Month")), _t(S("Charts", "Members who moved"))
        run = _latest(ask)
        if run is None:
            return ChartData(ChartId.MOVES, Look.STACKED, x_title, y_title, empty=_t(NOT_COMPUTED))
        months, into, shown = _moves(run)
        notes = (
            _t(S("Charts", "Moves as of {date}, counted for the whole store by the segment refresh.")).format(
                date=run.as_of.isoformat()
            ),
            _t(
                S(
                    "Charts",
                    "A click lists who moved into that stage that month (worked out again from the monthly totals; "
                    "on a big store this takes a few seconds).",
                )
            ),
        )
        return ChartData(
            ChartId.MOVES,
            Look.STACKED,
            x_title,
            y_title,
            tuple(months),
            tuple(
                Series(_t(S("Charts", "Into: {stage}")).format(stage=_seg(STAGE_LABELS[s])), tuple(into[s]))
                for s in shown
            ),
            tuple(months),
            notes=notes,
            empty=None if shown else _t(S("Charts", "No member changed stage in the last 12 months.")),
        )

    def members(self, ask: Ask, key: str, series: int) -> list[int]:
        """Who moved into the stage of series `series` in month `key` ("YYYY-MM"), the whole store."""
        from app.charts.moves import moved_into  # numpy: loaded on the first click, not with the charts
        from app.insights.compute import SegmentOptions

        run = _latest(ask)
        if run is None:
            return []
        _months, _into, shown = _moves(run)
        options = SegmentOptions.from_settings(ask.settings)
        return moved_into(ask.session.connection(), run.as_of, key, shown[series], options)


PYRAMID_CHART = _ByCode(
    ChartId.PYRAMID, MemberSegment.pyramid_level, PYRAMID, PYRAMID_LABELS, S("Charts", "Level"), "pyramid"
)
RFM_CHART = _Rfm(ChartId.RFM, MemberSegment.rfm_class, RFM_CLASSES, RFM_LABELS, S("Charts", "RFM class"), "rfm")
LIFECYCLE_CHART = _ByCode(
    ChartId.LIFECYCLE, MemberSegment.lifecycle_stage, STAGES, STAGE_LABELS, S("Charts", "Stage"), "lifecycle"
)
