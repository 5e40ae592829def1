"""The day's summary on A4 (ReportLab, the embedded CJK font): the figures against last week and the 4-week average,
the sales of the last four weeks as a chart, sales by category, the work lists and the staff figures. The owner
files it; `main.py report day` prints the same, so a store can schedule it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.dashboard.figures import CloseOfDay, Figure
from app.dashboard.format import format_change, format_value
from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate
from app.money import format_yuan
from app.printing.pdf import draw_text, open_canvas

PAGE_W, PAGE_H = A4
MARGIN = 16 * mm
ROW = 6.2 * mm
GREY = Color(0.45, 0.45, 0.45)
RULE = Color(0.8, 0.8, 0.8)
MEMBER_BAR = Color(0.16, 0.44, 0.75)
OTHER_BAR = Color(0.7, 0.8, 0.9)


def _t(text: str) -> str:
    return translate("Dashboard", text)


class _Page:
    """A cursor down A4 pages: a new page (with the header repeated) when the next block does not fit."""

    def __init__(self, canvas: Canvas, header: str) -> None:
        self.canvas = canvas
        self.header = header
        self.number = 1
        self.y = PAGE_H - MARGIN

    def need(self, height: float) -> None:
        if self.y - height < MARGIN + 8 * mm:
            self.footer()
            self.canvas.showPage()
            self.number += 1
            self.y = PAGE_H - MARGIN
            draw_text(self.canvas, self.header, MARGIN, self.y - 4 * mm, 9, color=GREY)
            self.y -= 10 * mm

    def footer(self) -> None:
        draw_text(self.canvas, f"— {self.number} —", PAGE_W / 2, MARGIN - 2 * mm, 8, align="center", color=GREY)

    def heading(self, text: str) -> None:
        self.need(ROW * 3)
        self.y -= 4 * mm
        draw_text(self.canvas, text, MARGIN, self.y - 5 * mm, 12, bold=True)
        self.y -= 8 * mm

    def table(self, columns: Sequence[tuple[float, str]], header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """`columns` are (width in points, alignment); the first column is left-aligned text."""
        self.need(ROW * 2)
        self._row(columns, header, GREY)
        self.canvas.setStrokeColor(RULE)
        self.canvas.line(MARGIN, self.y + 1.5 * mm, PAGE_W - MARGIN, self.y + 1.5 * mm)
        for row in rows:
            self.need(ROW)
            self._row(columns, row, Color(0, 0, 0))

    def _row(self, columns: Sequence[tuple[float, str]], cells: Sequence[str], color: Color) -> None:
        x = MARGIN
        for (width, align), cell in zip(columns, cells, strict=True):
            anchor = x + width - 2 * mm if align == "right" else x
            draw_text(
                self.canvas,
                cell,
                anchor,
                self.y - 4.5 * mm,
                9.5,
                align="right" if align == "right" else "left",
                color=color,
            )
            x += width
        self.y -= ROW


def _figure_row(figure: Figure) -> list[str]:
    return [
        _t(figure.label),
        format_value(figure, figure.today),
        format_value(figure, figure.last_week),
        format_change(figure, figure.vs_last_week),
        format_value(figure, figure.average),
        format_change(figure, figure.vs_average),
    ]


def _sales_chart(page: _Page, summary: CloseOfDay) -> None:
    """Net sales of each day of the last four weeks, the member part darker, the day itself outlined."""
    canvas = page.canvas
    height = 48 * mm
    page.need(height + 14 * mm)
    left, right = MARGIN + 22 * mm, PAGE_W - MARGIN
    bottom = page.y - height
    top_value = max((d.net_fen for d in summary.trend), default=0)
    canvas.setStrokeColor(RULE)
    canvas.line(left, bottom, right, bottom)
    if top_value <= 0:
        draw_text(
            canvas,
            _t(S("Dashboard", "No sales in these four weeks.")),
            (left + right) / 2,
            bottom + height / 2,
            10,
            align="center",
            color=GREY,
        )
    else:
        scale = (height - 6 * mm) / top_value
        draw_text(
            canvas,
            format_yuan(top_value),
            left - 2 * mm,
            bottom + top_value * scale - 1 * mm,
            7.5,
            align="right",
            color=GREY,
        )
        canvas.line(left, bottom + top_value * scale, right, bottom + top_value * scale)
        slot = (right - left) / len(summary.trend)
        for index, day in enumerate(summary.trend):
            x = left + index * slot + slot * 0.15
            width = slot * 0.7
            net = max(day.net_fen, 0)
            member = min(max(day.member_net_fen, 0), net)
            canvas.setFillColor(OTHER_BAR)
            canvas.rect(x, bottom, width, net * scale, stroke=0, fill=1)
            canvas.setFillColor(MEMBER_BAR)
            canvas.rect(x, bottom, width, member * scale, stroke=0, fill=1)
            if day.day == summary.day:
                canvas.setStrokeColor(Color(0, 0, 0))
                canvas.rect(x - 0.6, bottom, width + 1.2, net * scale + 0.6, stroke=1, fill=0)
            if index % 7 == (len(summary.trend) - 1) % 7:
                draw_text(
                    canvas,
                    f"{day.day.month}/{day.day.day}",
                    x + width / 2,
                    bottom - 4 * mm,
                    7.5,
                    align="center",
                    color=GREY,
                )
    legend_y = bottom - 9 * mm
    for offset, (color, text) in enumerate(
        ((MEMBER_BAR, _t(S("Dashboard", "Member sales"))), (OTHER_BAR, _t(S("Dashboard", "Other sales"))))
    ):
        x = left + offset * 40 * mm
        canvas.setFillColor(color)
        canvas.rect(x, legend_y, 3 * mm, 3 * mm, stroke=0, fill=1)
        draw_text(canvas, text, x + 4.5 * mm, legend_y + 0.4 * mm, 8.5)
    page.y = legend_y - 4 * mm


def _uncategorised(summary: CloseOfDay) -> int:
    return summary.sales_fen - summary.returns_fen - sum(c.amount_fen for c in summary.categories)


def write_day_report(summary: CloseOfDay, path: str | Path, printed_at: dt.datetime) -> Path:
    """The A4 PDF of `summary` at `path` (printed_at in the store's time, for the footer line)."""
    title = _t(S("Dashboard", "Day summary {date}")).format(date=summary.day.isoformat())
    canvas = open_canvas(path, A4, title)
    header = f"{summary.store_name} · {title}"
    page = _Page(canvas, header)
    draw_text(canvas, summary.store_name, MARGIN, page.y - 6 * mm, 16, bold=True)
    draw_text(canvas, title, PAGE_W - MARGIN, page.y - 6 * mm, 13, align="right")
    weekday = _t(WEEKDAYS[summary.day.weekday()])
    note = _t(
        S(
            "Dashboard",
            "{weekday}; compared with {last_week} and the average of the four same weekdays before; printed {at}",
        )
    )
    draw_text(
        canvas,
        note.format(
            weekday=weekday,
            last_week=(summary.day - dt.timedelta(weeks=1)).isoformat(),
            at=f"{printed_at:%Y-%m-%d %H:%M}",
        ),
        MARGIN,
        page.y - 13 * mm,
        8.5,
        color=GREY,
    )
    page.y -= 17 * mm

    page.heading(_t(S("Dashboard", "Sales")))
    money = [
        (_t(S("Dashboard", "Sales")), summary.sales_fen),
        (_t(S("Dashboard", "Returns")), summary.returns_fen),
        (_t(S("Dashboard", "Net sales")), summary.sales_fen - summary.returns_fen),
        (_t(S("Dashboard", "Member sales, net of returns")), summary.member_sales_fen - summary.member_returns_fen),
    ]
    width = (PAGE_W - 2 * MARGIN) / len(money)
    for index, (label, fen) in enumerate(money):
        x = MARGIN + index * width
        draw_text(canvas, label, x, page.y - 4 * mm, 8.5, color=GREY)
        draw_text(canvas, format_yuan(fen), x, page.y - 11 * mm, 13, bold=True)
    page.y -= 15 * mm

    page.heading(_t(S("Dashboard", "Figures")))
    usable = PAGE_W - 2 * MARGIN
    page.table(
        [(usable * 0.25, "left")] + [(usable * 0.15, "right")] * 5,
        [
            _t(S("Dashboard", "Figure")),
            _t(S("Dashboard", "Today")),
            _t(S("Dashboard", "Last week")),
            _t(S("Dashboard", "Change")),
            _t(S("Dashboard", "4-week average")),
            _t(S("Dashboard", "Change")),
        ],
        [_figure_row(figure) for figure in summary.figures],
    )

    page.heading(_t(S("Dashboard", "Sales of the last four weeks")))
    _sales_chart(page, summary)

    page.heading(_t(S("Dashboard", "Sales by category")))
    if summary.categories:
        page.table(
            [(usable * 0.5, "left"), (usable * 0.25, "right"), (usable * 0.25, "right")],
            [_t(S("Dashboard", "Category")), _t(S("Dashboard", "Quantity")), _t(S("Dashboard", "Amount"))],
            [[c.name, f"{c.quantity:,}", format_yuan(c.amount_fen)] for c in summary.categories]
            + [
                [_t(S("Dashboard", "Sales without category lines")), "", format_yuan(rest)]
                for rest in [_uncategorised(summary)]
                if rest
            ],
        )
    else:
        page.need(ROW)
        draw_text(
            canvas,
            _t(S("Dashboard", "No sales with categories on this day.")),
            MARGIN,
            page.y - 4.5 * mm,
            9.5,
            color=GREY,
        )
        page.y -= ROW

    page.heading(_t(S("Dashboard", "Work lists")))
    page.table(
        [(usable * 0.75, "left"), (usable * 0.25, "right")],
        [_t(S("Dashboard", "List")), _t(S("Dashboard", "Members"))],
        [[_t(w.label), f"{w.count:,}"] for w in summary.work_lists],
    )

    period = _t(S("Dashboard", "Staff {first} to {last}")).format(
        first=summary.staff_from.isoformat(), last=summary.day.isoformat()
    )
    page.heading(period)
    stars = []
    if summary.sales_star is not None:
        stars.append(_t(S("Dashboard", "Sales champion: {name}")).format(name=summary.sales_star.name))
    if summary.service_star is not None:
        stars.append(_t(S("Dashboard", "Service star: {name}")).format(name=summary.service_star.name))
    if stars:
        page.need(ROW)
        draw_text(canvas, "    ".join(stars), MARGIN, page.y - 4.5 * mm, 10, bold=True)
        page.y -= ROW
    page.table(
        [(usable * 0.22, "left")] + [(usable * 0.13, "right")] * 6,
        [
            _t(S("Dashboard", "Staff")),
            _t(S("Dashboard", "Registered")),
            _t(S("Dashboard", "Purchases")),
            _t(S("Dashboard", "Sales")),
            _t(S("Dashboard", "Resolved")),
            _t(S("Dashboard", "Calls")),
            _t(S("Dashboard", "Satisfaction")),
        ],
        [
            [
                s.name,
                f"{s.members_registered:,}",
                f"{s.purchases:,}",
                format_yuan(s.sales_fen),
                f"{s.complaints_resolved:,}",
                f"{s.follow_ups_done:,}",
                "—" if s.satisfaction_tenths is None else f"{s.satisfaction_tenths // 10}.{s.satisfaction_tenths % 10}",
            ]
            for s in summary.staff
        ],
    )
    page.footer()
    canvas.save()
    return Path(path)


WEEKDAYS = (
    S("Dashboard", "Monday"),
    S("Dashboard", "Tuesday"),
    S("Dashboard", "Wednesday"),
    S("Dashboard", "Thursday"),
    S("Dashboard", "Friday"),
    S("Dashboard", "Saturday"),
    S("Dashboard", "Sunday"),
)
