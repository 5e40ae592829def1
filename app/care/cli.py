"""What the `complaints` and `surveys` subcommands do, on the same services as the GUI."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

from app.care.complaints import ComplaintRow, status_label
from app.care.settings import channel_label, severity_label
from app.care.surveys import FormBatch, results_table
from app.context import Services
from app.errors import ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate

EXPORT_COLUMNS = (
    S("Care", "Number"),
    S("Care", "Logged"),
    S("Care", "Status"),
    S("Care", "Severity"),
    S("Care", "Channel"),
    S("Care", "Category"),
    S("Care", "Product or supplier"),
    S("Care", "Subject"),
    S("Care", "Member"),
    S("Care", "Branch"),
    S("Care", "Assignee"),
    S("Care", "Due"),
    S("Care", "Resolved"),
    S("Care", "Overdue"),
)


def store_zone(services: Services) -> ZoneInfo:
    return ZoneInfo(services.settings.current().store_timezone)


def _day(text: str | None, zone: ZoneInfo, after: bool) -> dt.datetime | None:
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(S("Errors", "Not a date (YYYY-MM-DD): {text}"), text=text) from None
    start = dt.datetime.combine(day + dt.timedelta(days=1 if after else 0), dt.time(), zone)
    return start.astimezone(dt.UTC)


def _local(value: dt.datetime | None, zone: ZoneInfo) -> str:
    return "" if value is None else f"{value.astimezone(zone):%Y-%m-%d %H:%M}"


def complaint_cells(row: ComplaintRow, zone: ZoneInfo) -> list[object]:
    return [
        row.id,
        _local(row.created_at, zone),
        status_label(row.status),
        severity_label(row.severity),
        channel_label(row.channel),
        row.category,
        row.product or "",
        row.subject,
        row.member_no or "",
        row.branch_name,
        row.assignee or "",
        _local(row.due_at, zone),
        _local(row.resolved_at, zone),
        "✓" if row.overdue else "",
    ]


def export_complaints(services: Services, path: Path, date_from: str | None, date_to: str | None) -> int:
    zone = store_zone(services)
    since, until = _day(date_from, zone, after=False), _day(date_to, zone, after=True)
    if since is not None and until is not None and since >= until:
        raise ValidationError(S("Errors", "The period ends before it starts."))

    def rows() -> Iterator[list[object]]:
        for row in services.care.complaints.rows_for_export(since, until):
            yield complaint_cells(row, zone)

    return services.care.exports.save(path, "complaints", ([translate("Care", c) for c in EXPORT_COLUMNS], rows()))


def print_survey_forms(services: Services, code: str, count: int, out: Path, member_no: str | None) -> FormBatch:
    """The form rows and the PDF together: the PDF is written inside the transaction and moved into place after."""
    from app.printing.survey_form import write_survey_forms

    handle, temp = tempfile.mkstemp(dir=out.parent, prefix=".part-", suffix=".pdf")
    os.close(handle)
    try:
        batch = services.care.surveys.print_forms(
            code, count, member_no, lambda b: write_survey_forms(b, temp) and None
        )
        os.replace(temp, out)
        return batch
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def survey_results(services: Services, code: str, out: Path | None, english: bool) -> list[str]:
    results = services.care.surveys.results(code)
    columns, rows = results_table(results, english)
    if out is not None:
        services.care.exports.save(out, "survey_results", (columns, rows))
    title = results.template.shown_title(english)
    lines = [f"{results.template.code} v{results.template.version} {title}"]
    lines += ["\t".join(str(cell) for cell in row) for row in rows]
    return lines
