"""Charts over the care desk: complaints by category with the median time to resolve, and the CSAT / NPS trend of
the store's most answered survey (the figures come from app.care.surveys). The branch is where it was logged."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from typing import Any

from sqlalchemy import Select, select

from app.care.surveys import SurveyService, TemplateInfo
from app.charts.base import Ask
from app.charts.model import ChartData, ChartId, Grain, Look, Series, Unit
from app.charts.periods import between, utc_start
from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate
from db.models import Complaint, SurveyResponse, SurveyTemplate


def _t(text: str) -> str:
    return translate("Charts", text)


class ComplaintsByCategory:
    """Complaints logged in the period per category, and the median hours from logging to resolving (of those
    resolved)."""

    def _query(self, ask: Ask, *columns: Any) -> Select[Any]:
        query = select(*columns).where(*between(Complaint.created_at, ask.period.start, ask.period.end))
        if ask.filter.branch_id is not None:
            query = query.where(Complaint.branch_id == ask.filter.branch_id)
        return query

    def figures(self, ask: Ask) -> ChartData:
        rows = ask.session.execute(self._query(ask, Complaint.category, Complaint.created_at, Complaint.resolved_at))
        counts: dict[str, int] = defaultdict(int)
        hours: dict[str, list[float]] = defaultdict(list)
        for category, created, resolved in rows:
            counts[category] += 1
            if resolved is not None:
                hours[category].append((resolved - created).total_seconds() / 3600)
        order = sorted(counts, key=lambda c: (-counts[c], c))
        medians = tuple(statistics.median(hours[c]) if hours[c] else None for c in order)
        return ChartData(
            ChartId.COMPLAINTS,
            Look.BARS,
            _t(S("Charts", "Category")),
            _t(S("Charts", "Complaints")),
            tuple(order),
            (
                Series(_t(S("Charts", "Complaints")), tuple(float(counts[c]) for c in order)),
                Series(
                    _t(S("Charts", "Median hours to resolve")),
                    medians,
                    Unit.HOURS,
                    right_axis=True,
                    line=True,
                    clickable=False,
                ),
            ),
            tuple(order),
            notes=(_t(S("Charts", "Hours to resolve: from logging to resolving, of the complaints resolved.")),),
            empty=None if order else _t(S("Charts", "No complaint in this period.")),
            right_title=_t(S("Charts", "Median hours to resolve")),
        )

    def members(self, ask: Ask, key: str, series: int) -> Select[Any]:
        return self._query(ask, Complaint.member_id).where(Complaint.category == key, Complaint.member_id.is_not(None))


def answered_surveys(surveys: SurveyService) -> list[TemplateInfo]:
    """The surveys answered at least once, the most answered first (the chart's default)."""
    return sorted((t for t in surveys.templates() if t.responses), key=lambda t: (-t.responses, t.code))


class Satisfaction:
    """CSAT (share of 4–5 ratings) and NPS (% 9–10 − % 0–6) per month, or per ISO week by day or week."""

    def __init__(self, surveys: SurveyService) -> None:
        self.surveys = surveys

    def _template(self, ask: Ask) -> str | None:
        """The survey asked for, else the one with the most answers."""
        if ask.filter.survey is not None:
            return ask.filter.survey
        answered = answered_surveys(self.surveys)
        return answered[0].code if answered else None

    def figures(self, ask: Ask) -> ChartData:
        by_month = ask.filter.grain == Grain.MONTH
        x_title = _t(S("Charts", "Month")) if by_month else _t(S("Charts", "ISO week"))
        y_title = _t(S("Charts", "Score (%)"))
        code = self._template(ask)
        if code is None:
            return ChartData(
                ChartId.SATISFACTION, Look.LINES, x_title, y_title, empty=_t(S("Charts", "No survey answered yet."))
            )
        results = self.surveys.results(code, ask.period.start, ask.period.end, by_month, ask.filter.branch_id)
        trend = results.trend
        return ChartData(
            ChartId.SATISFACTION,
            Look.LINES,
            x_title,
            y_title,
            tuple(p.label for p in trend),
            (
                Series("CSAT (%)", tuple(p.csat for p in trend), Unit.PERCENT),
                Series("NPS", tuple(p.nps for p in trend), Unit.PERCENT),
                Series(
                    _t(S("Charts", "Answers")), tuple(float(p.responses) for p in trend), drawn=False, clickable=False
                ),
            ),
            tuple(f"{code}|{p.label}" for p in trend),
            notes=(
                _t(S("Charts", "Survey {code}: {n} answers in the period; CSAT {csat}, NPS {nps}.")).format(
                    code=code,
                    n=f"{results.responses:,}",
                    csat="–" if results.csat is None else f"{results.csat:.1f}%",
                    nps="–" if results.nps is None else f"{results.nps:.1f}",
                ),
            ),
            empty=None if trend else _t(S("Charts", "No survey answered in this period.")),
        )

    def members(self, ask: Ask, key: str, series: int) -> Select[Any]:
        code, _, label = key.partition("|")
        first, after = _label_days(label)
        start = (
            max(utc_start(first, ask.period.zone), ask.period.start)
            if ask.period.start
            else utc_start(first, ask.period.zone)
        )
        end = min(utc_start(after, ask.period.zone), ask.period.end)
        query = (
            select(SurveyResponse.member_id)
            .join(SurveyTemplate, SurveyTemplate.id == SurveyResponse.template_id)
            .where(SurveyTemplate.code == code, SurveyResponse.member_id.is_not(None))
            .where(*between(SurveyResponse.answered_at, start, end))
        )
        if ask.filter.branch_id is not None:
            query = query.where(SurveyResponse.branch_id == ask.filter.branch_id)
        return query


def _label_days(label: str) -> tuple[dt.date, dt.date]:
    """The days of a trend label (`2026-11` or `2026-W47`): first, and the day after the last."""
    if "-W" in label:
        year, week = label.split("-W")
        monday = dt.date.fromisocalendar(int(year), int(week), 1)
        return monday, monday + dt.timedelta(days=7)
    first = dt.date.fromisoformat(label + "-01")
    return first, (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
