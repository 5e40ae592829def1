"""The `segments` command's file and printout: one row per member, the issue's columns first."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

from app.errors import ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate
from app.importing.tables import write_table
from app.insights.compute import MODELS
from app.insights.labels import PYRAMID, PYRAMID_LABELS, RFM_CLASSES, RFM_LABELS, STAGE_LABELS, STAGES
from app.insights.refresh import MOVES_KEY, SegmentReport, parameters

COLUMNS = (
    "member_no",
    "card_no",
    "recency_days",
    "frequency",
    "monetary_fen",
    "r_score",
    "f_score",
    "m_score",
    "rfm_class",
    "pyramid_level",
    "lifecycle_stage",
    "p_alive",
    "expected_purchases",
    "expected_spend_per_purchase_fen",
    "value_over_horizon_fen",
    "churn_warning",
    "model",
)
MOVES_SHOWN = 4
GAMMA_GAMMA_LINE = S(
    "Segments", "Gamma-Gamma (spend in yuan, {n:,} repeat buyers): p = {p:.4f}, q = {q:.4f}, gamma = {gamma:.4f}"
)


def _label(table: dict[str, str], code: str) -> str:
    return translate("Segments", table[code])


def _rounded(value: float, digits: int) -> float | None:
    return round(value, digits) if math.isfinite(value) else None


def _fen(value: float) -> int | None:
    return round(value) if math.isfinite(value) else None


def rows(report: SegmentReport) -> Iterator[list[object]]:
    seg = report.per_member()
    for i in range(len(seg.member_ids)):
        rfm = int(seg.rfm_class[i])
        recency = int(seg.recency_days[i])
        yield [
            report.numbers.member_no[i],
            report.numbers.card_no[i],
            recency if recency >= 0 else None,
            int(seg.frequency[i]),
            int(seg.monetary_fen[i]),
            int(seg.r_score[i]) or None,
            int(seg.f_score[i]) or None,
            int(seg.m_score[i]) or None,
            _label(RFM_LABELS, RFM_CLASSES[rfm]) if rfm >= 0 else None,
            _label(PYRAMID_LABELS, PYRAMID[int(seg.pyramid[i])]),
            _label(STAGE_LABELS, STAGES[int(seg.stage[i])]),
            _rounded(float(seg.p_alive[i]), 4),
            _rounded(float(seg.expected_purchases[i]), 3),
            _fen(float(seg.expected_spend_fen[i])),
            _fen(float(seg.value_fen[i])),
            int(bool(seg.churn_warning[i])),
            MODELS[int(seg.model[i])],
        ]


def write_segments(report: SegmentReport, path: Path) -> int:
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise ValidationError(S("Errors", "Export to a .csv or .xlsx file."))
    return write_table(path, COLUMNS, rows(report))


def summary(report: SegmentReport) -> list[str]:
    """The printout: the model or rule used with its parameters, then the counts per level, class and stage."""
    fit = report.fit
    lines = [
        translate(
            "Segments", S("Segments", "Segments as of {date}, {members:,} members, {buyers:,} with purchases")
        ).format(date=report.as_of.isoformat(), members=report.members, buyers=fit.buyers)
    ]
    if fit.reason is None:
        values = parameters(fit)
        lines.append(
            translate(
                "Segments",
                S("Segments", "BG/NBD (time in weeks): r = {r:.4f}, alpha = {alpha:.4f}, a = {a:.4f}, b = {b:.4f}"),
            ).format(**values)
        )
        lines.append(translate("Segments", GAMMA_GAMMA_LINE).format(n=fit.repeat_buyers, **values))
    else:
        reason = translate("Segments", fit.reason).format(buyers=fit.buyers, repeaters=fit.repeat_buyers)
        lines.append(
            translate(
                "Segments", S("Segments", "No model fitted ({reason}); the interval rule was used instead.")
            ).format(reason=reason)
        )
    if report.later_sales_ignored:
        lines.append(
            translate("Segments", S("Segments", "{count:,} purchases after the as-of date were left out.")).format(
                count=report.later_sales_ignored
            )
        )
    sections = (
        (S("Segments", "Customer pyramid"), "pyramid", PYRAMID_LABELS),
        (S("Segments", "RFM classes"), "rfm", RFM_LABELS),
        (S("Segments", "Lifecycle stages"), "lifecycle", STAGE_LABELS),
    )
    for title, key, labels in sections:
        lines.append(translate("Segments", title) + ":")
        for code, count in report.counts[key].items():
            lines.append(f"  {_label(labels, code)}: {count:,}")
    lines.append(translate("Segments", S("Segments", "Lifecycle moves by month (the largest):")))
    for key, moved in report.counts.items():
        if not key.startswith(MOVES_KEY):
            continue
        month = key.removeprefix(MOVES_KEY)
        largest = sorted(moved.items(), key=lambda item: -item[1])[:MOVES_SHOWN]
        shown = ", ".join(
            f"{_label(STAGE_LABELS, pair.split('>')[0])} → {_label(STAGE_LABELS, pair.split('>')[1])} {count:,}"
            for pair, count in largest
        )
        lines.append(f"  {month}: {shown or '—'}")
    lines.append(
        translate("Segments", S("Segments", "Churn warnings: {count:,}")).format(
            count=report.counts["churn_warning"]["yes"]
        )
    )
    lines.append(
        translate("Segments", S("Segments", "Stored for the member panel: {stored}")).format(
            stored=translate("Segments", S("Segments", "yes"))
            if report.stored
            else translate("Segments", S("Segments", "no (not the latest day)"))
        )
    )
    return lines
