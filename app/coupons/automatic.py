"""The campaigns the daily maintenance runs by itself, each off until an owner switches it on in the settings:

- birthday coupons: members with marketing consent whose birthday is within the next N days get one coupon of that
  year's birthday campaign (BDAY-YYYY, one per member: a second run, or a second counter, issues no second one);
- holiday coupons: N days before each holiday listed in the settings (春节=2027-02-06 …), members with marketing
  consent get a coupon of that holiday's campaign, and the greeting list (member no., name, phone, coupon code) is
  written to the data folder's greetings/ for the SMS or WeChat round.

- win-back coupons: each month's win-back campaign (WINBACK-YYYYMM, valid from the 1st for 45 days) gives one
  coupon to each member with a churn warning (from the last segment refresh) who agreed to marketing; a member who
  gets the warning later in the month gets theirs on that day's run.

The coupon ledger's keys make every step idempotent; coupons whose campaign ran out are expired first.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.actions.member_sets import MemberSet
from app.changes import Changes
from app.coupons.campaigns import CampaignDraft
from app.coupons.service import CouponService, StoreDays
from app.errors import ValidationError
from app.settings import StoreSettings, read_settings
from db.enums import CampaignStatus, CampaignTarget, CouponKind, MemberStatus
from db.models import Coupon, CouponCampaign, Member

HOLIDAY_VALID_DAYS = 14
WIN_BACK_VALID_DAYS = 45
BIRTHDAY_GRACE_DAYS = 30


@dataclass(frozen=True)
class CouponMaintenance:
    expired: int
    birthday_coupons: int
    holiday_coupons: int
    greeting_lists: tuple[Path, ...]
    win_back_coupons: int = 0

    @property
    def changes(self) -> Changes:
        made = self.expired or self.birthday_coupons or self.holiday_coupons or self.win_back_coupons
        return Changes.COUPONS if made else Changes.NONE


def run_daily(coupons: CouponService, greetings: Path) -> CouponMaintenance:
    """Expire, then the automatic campaigns that are switched on. Safe on several counters at once."""
    expired = coupons.expire_due()
    settings = coupons.db.read(read_settings)
    zone = ZoneInfo(settings.store_timezone)
    today = coupons.clock.now().astimezone(zone).date()
    birthday = _birthdays(coupons, settings, today) if settings.coupons_birthday_enabled else 0
    holiday, lists = _holidays(coupons, settings, today, greetings) if settings.coupons_holidays_enabled else (0, ())
    win_back = _win_back(coupons, settings, today) if settings.coupons_win_back_enabled else 0
    return CouponMaintenance(expired, birthday, holiday, lists, win_back)


def _campaign(coupons: CouponService, draft: CampaignDraft) -> int:
    """The automatic campaign with this code, made (already active) the first time."""
    found = coupons.db.read(
        lambda session: session.scalar(select(CouponCampaign.id).where(CouponCampaign.code == draft.code))
    )
    return found if found is not None else coupons._create(draft, CampaignStatus.ACTIVE).campaign_id


def _issue(coupons: CouponService, campaign_id: int, key: str, member_ids: list[int]) -> int:
    if not member_ids:
        return 0
    try:
        result = coupons._issue(campaign_id, key, member_ids=member_ids, marketing_consent_only=True)
    except ValidationError:  # every one of them holds this year's coupon already
        return 0
    return 0 if result.replayed else result.issued


def _birthdays(coupons: CouponService, settings: StoreSettings, today: dt.date) -> int:
    ahead = settings.coupons_birthday_days_before
    by_year: dict[int, set[str]] = {}
    for offset in range(ahead + 1):
        day = today + dt.timedelta(days=offset)
        days = by_year.setdefault(day.year, set())
        days.add(day.strftime("%m-%d"))
        if day.month == 2 and day.day == 28 and not _leap(day.year):
            days.add("02-29")  # born on 29 February: celebrated on the 28th in other years
    issued = 0
    timezone = str(settings.store_timezone)
    for year, mmdd in by_year.items():
        start, until = coupons.bounds(
            StoreDays(dt.date(year, 1, 1) - dt.timedelta(days=ahead), dt.date(year + 1, 1, BIRTHDAY_GRACE_DAYS)),
            timezone,
        )
        draft = CampaignDraft(
            f"BDAY-{year}",
            f"生日券 {year}",
            CouponKind.AMOUNT_OFF,
            start,
            until,
            value_fen=settings.coupons_birthday_value_fen,
            target=CampaignTarget.CHOSEN_MEMBERS,
            terms="生日快乐！会员本人使用，每年一张。",
            automatic=f"birthday:{year}",
        )
        campaign_id = _campaign(coupons, draft)
        query = select(Member.id).where(
            Member.birthday_mmdd.in_(sorted(mmdd)),
            Member.status == MemberStatus.ACTIVE,
            Member.marketing_consent.is_(True),
        )
        with coupons.db.session() as session:
            members = list(session.scalars(query))
        issued += _issue(coupons, campaign_id, f"auto:birthday:{year}:{today.isoformat()}", members)
    return issued


def _win_back(coupons: CouponService, settings: StoreSettings, today: dt.date) -> int:
    month = today.replace(day=1)
    last = month + dt.timedelta(days=WIN_BACK_VALID_DAYS - 1)  # every run of the month falls inside
    start, until = coupons.bounds(StoreDays(month, last), settings.store_timezone)
    draft = CampaignDraft(
        f"WINBACK-{month:%Y%m}",
        f"挽回券 {month:%Y-%m}",
        CouponKind.AMOUNT_OFF,
        start,
        until,
        value_fen=settings.coupons_win_back_value_fen,
        target=CampaignTarget.CHOSEN_MEMBERS,
        terms="好久不见，欢迎回来！会员本人使用。",
        automatic=f"winback:{month:%Y-%m}",
    )
    campaign_id = _campaign(coupons, draft)
    members = coupons.db.read(lambda session: MemberSet.win_back().resolve(session, consent_only=True))
    return _issue(coupons, campaign_id, f"auto:winback:{today.isoformat()}", members)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def holiday_dates(entries: Sequence[str]) -> list[tuple[str, dt.date]]:
    """`NAME=YYYY-MM-DD` entries of the setting; a malformed one is skipped (the settings screen shows it)."""
    found = []
    for entry in entries:
        name, _, day = entry.partition("=")
        try:
            found.append((name.strip(), dt.date.fromisoformat(day.strip())))
        except ValueError:
            continue
    return [(name, day) for name, day in found if name]


def _holidays(
    coupons: CouponService, settings: StoreSettings, today: dt.date, greetings: Path
) -> tuple[int, tuple[Path, ...]]:
    ahead = settings.coupons_holiday_days_before
    issued, lists = 0, []
    for name, day in holiday_dates(settings.coupons_holidays):
        if not day - dt.timedelta(days=ahead) <= today <= day:
            continue
        start, until = coupons.bounds(
            StoreDays(day - dt.timedelta(days=ahead), day + dt.timedelta(days=HOLIDAY_VALID_DAYS)),
            str(settings.store_timezone),
        )
        draft = CampaignDraft(
            f"HOL-{day:%Y%m%d}",
            f"{name}券 {day.year}",
            CouponKind.AMOUNT_OFF,
            start,
            until,
            value_fen=settings.coupons_holiday_value_fen,
            target=CampaignTarget.ALL_MEMBERS,
            terms=f"{name}快乐！",
            automatic=f"holiday:{name}:{day.year}",
        )
        campaign_id = _campaign(coupons, draft)
        try:
            result = coupons._issue(campaign_id, f"auto:holiday:{day.isoformat()}", marketing_consent_only=True)
        except ValidationError:
            continue
        if result.replayed:
            continue
        issued += result.issued
        lists.append(_greeting_list(coupons, campaign_id, greetings / f"greetings-{name}-{day.isoformat()}.csv"))
    return issued, tuple(lists)


def _greeting_list(coupons: CouponService, campaign_id: int, path: Path) -> Path:
    """Who to greet, with their coupon: member no., name, phone, code (members with marketing consent only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with coupons.db.session() as session, path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(["member_no", "name", "phone", "coupon_code"])
        rows = session.execute(
            select(Member.member_no, Member.name, Member.phone, Coupon.code)
            .join(Coupon, Coupon.member_id == Member.id)
            .where(Coupon.campaign_id == campaign_id, Member.marketing_consent.is_(True))
            .order_by(Member.member_no)
        )
        writer.writerows(rows)
    return path
