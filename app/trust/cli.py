"""What the `privacy` and `audit` subcommands do, on the same services (and the same role rules) as the 数据与隐私
screens. Each function returns the lines to print; refusals are the services' own errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

from app.context import Services
from app.errors import ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate
from app.trust.viewer import AuditFilter

MAX_LISTED = 10_000


def _zone(services: Services) -> ZoneInfo:
    return ZoneInfo(services.settings.current().store_timezone)


def _local(value: dt.datetime | None, zone: ZoneInfo, with_time: bool = True) -> str:
    if value is None:
        return "-"
    return f"{value.astimezone(zone):%Y-%m-%d %H:%M}" if with_time else f"{value.astimezone(zone):%Y-%m-%d}"


def member_data(services: Services, member: str, out: Path) -> str:
    privacy = services.privacy
    done = privacy.export_member_data(privacy.find_member(member), out)
    return f"member {member}: {done.purchases} purchases and {done.ledger_rows} points entries written to {done.path}"


def withdraw_consent(services: Services, member: str) -> str:
    privacy = services.privacy
    privacy.withdraw_marketing_consent(privacy.find_member(member))
    return f"member {member}: marketing consent withdrawn (no coupons, greetings or contact lists from now on)"


def anonymise(services: Services, member: str, reason: str, confirmed: bool) -> str:
    privacy = services.privacy
    member_id = privacy.find_member(member)
    if not confirmed:
        raise ValidationError(
            S(
                "Errors",
                "Deleting a member's personal data cannot be undone: run the command again with --yes. Nothing was "
                "changed.",
            )
        )
    privacy.anonymise(member_id, reason)
    return (
        f"member {member}: name, phone, ID number, birthday, card, notes and tags deleted; purchases and points stay "
        "under the member number"
    )


def inactive(services: Services, days: int | None, out: Path | None) -> Iterator[str]:
    privacy = services.privacy
    review = privacy.inactive_members(days)
    yield (
        f"{review.total} active members with no visit in the last {review.days} days "
        f"(the review setting is {review.months} months)"
    )
    if out is not None:
        count = privacy.export_inactive(out, days)
        yield f"{count} members written to {out} (phones masked)"
        return
    zone = _zone(services)
    for m in review.members:
        yield (
            f"  {m.member_no}  {m.name or '-'}  {m.masked_phone or '-'}  joined {_local(m.joined_at, zone, False)}"
            f"  last visit {_local(m.last_visit_at, zone, False)}  {m.points} points"
        )
    if review.total > len(review.members):
        yield f"  … the {len(review.members)} longest gone shown; --out FILE.csv|.xlsx writes all {review.total}"


def notice(services: Services, out: Path) -> str:
    return f"privacy notice written to {services.privacy.privacy_notice(out)}"


def audit_filter(
    services: Services,
    date_from: dt.date | None,
    date_to: dt.date | None,
    actor: str | None,
    action: str | None,
    entity: str | None,
    branch: str | None,
) -> AuditFilter:
    """The filter as the owner names it: store days (the last one included), a staff username or name, a branch
    name or number."""
    if date_from and date_to and date_to < date_from:
        raise ValidationError(S("Errors", "The last day comes before the first."))
    zone = _zone(services)
    audit = services.audit

    def start(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)

    return AuditFilter(
        since=start(date_from) if date_from else None,
        until=start(date_to + dt.timedelta(days=1)) if date_to else None,
        staff_id=audit.staff_id(actor) if actor else None,
        action=action or None,
        entity=entity or None,
        branch_id=audit.branch_id(branch) if branch else None,
    )


def audit_list(services: Services, wanted: AuditFilter, limit: int, out: Path | None) -> Iterator[str]:
    if not 1 <= limit <= MAX_LISTED:
        raise ValidationError(S("Errors", "--limit must be between 1 and 10,000."))
    audit = services.audit
    if out is not None:
        yield f"{audit.export(wanted, out)} audit entries written to {out}"
        return
    page = audit.entries(wanted, 0, limit)
    yield f"{page.total} audit entries, newest first" + (f" (the {limit} newest shown)" if page.total > limit else "")
    zone = _zone(services)
    for row in page.rows:
        record = f"{row.entity} {row.entity_id}".strip()
        who = row.staff or "-"
        yield f"{_local(row.at, zone)}  {row.branch}#{row.seq}  {who}  {row.action}  {record}  {row.details}"


def audit_verify(services: Services) -> tuple[list[str], list[str]]:
    """(problems, heads): what `db check` says of the audit log, and each branch chain's head to keep elsewhere."""
    audit = services.audit
    problems = [
        translate("Integrity", f.message).format(count=f.count, examples=", ".join(f.examples)) for f in audit.verify()
    ]
    heads = [
        f"audit chain head, branch {head.branch_name}: {head} (keep it: it proves later that nothing before it changed)"
        for head in audit.heads()
    ]
    return problems, heads
