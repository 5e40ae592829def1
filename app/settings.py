"""The store's settings: one typed registry with defaults, stored in the `settings` table (shared by every counter
of a chain). Changes are audited."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from app.changes import Changes
from app.errors import ValidationError
from app.i18n import QT_TRANSLATE_NOOP
from app.security.operator import Operator, require_role
from app.trust.audit import record_audit
from db.engine import Database
from db.enums import StaffRole
from db.models import Setting

if TYPE_CHECKING:
    from db.driver import DriverReads


@dataclass(frozen=True)
class SettingDef:
    key: str
    kind: type
    default: Any
    label: str
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()


def _def(key: str, kind: type, default: Any, label: str, **kw: Any) -> SettingDef:
    return SettingDef(key, kind, default, label, **kw)


S = QT_TRANSLATE_NOOP
REGISTRY: dict[str, SettingDef] = {
    d.key: d
    for d in [
        _def("store.name", str, "会员台示例超市", S("Settings", "Store name")),
        _def("store.timezone", str, "Asia/Shanghai", S("Settings", "Store time zone")),
        _def(
            "points.fen_per_point",
            int,
            100,
            S("Settings", "Spend (fen) for one point"),
            minimum=1,
            maximum=100000,
        ),
        _def(
            "points.redeem_points_per_yuan",
            int,
            100,
            S("Settings", "Points worth ¥1"),
            minimum=1,
            maximum=100000,
        ),
        _def(
            "points.redeem_cap_pct",
            int,
            50,
            S("Settings", "Most of a purchase payable in points (%)"),
            minimum=0,
            maximum=100,
        ),
        _def(
            "points.expiry_mode",
            str,
            "rolling",
            S("Settings", "Points expiry"),
            choices=("none", "rolling", "yearly"),
        ),
        _def("points.expiry_months", int, 24, S("Settings", "Points last (months)"), minimum=1, maximum=120),
        _def("points.expiry_clearing_date", str, "12-31", S("Settings", "Yearly clearing date (MM-DD)")),
        _def(
            "points.expiry_warning_days",
            int,
            30,
            S("Settings", "Warn of expiring points (days ahead)"),
            minimum=1,
            maximum=365,
        ),
        _def(
            "points.member_day_weekday",
            int,
            -1,
            S("Settings", "Member day weekday (0=Mon, -1=none)"),
            minimum=-1,
            maximum=6,
        ),
        _def("points.member_day_from", str, "", S("Settings", "Member days from (YYYY-MM-DD)")),
        _def("points.member_day_until", str, "", S("Settings", "Member days until (YYYY-MM-DD)")),
        _def(
            "points.member_day_multiplier_pct",
            int,
            200,
            S("Settings", "Member day multiplier (%)"),
            minimum=100,
            maximum=1000,
        ),
        _def("points.excluded_categories", list, [], S("Settings", "Categories that earn no points")),
        _def("points.adjust_limit_without_approval", int, 0, S("Settings", "Cashier adjustment limit")),
        _def(
            "referral.bonus_points",
            int,
            200,
            S("Settings", "Referral bonus (points)"),
            minimum=0,
            maximum=100000,
        ),
        _def("tiers.basis", str, "spend", S("Settings", "Tiers by"), choices=("spend", "points")),
        _def("tiers.review_months", int, 12, S("Settings", "Tier review after (months)"), minimum=1, maximum=36),
        _def("cards.prefix", str, "88", S("Settings", "Card number prefix")),
        _def("cards.print_enabled", bool, True, S("Settings", "Print member cards")),
        _def("coupons.birthday_enabled", bool, False, S("Settings", "Birthday coupons (automatic)")),
        _def(
            "coupons.birthday_days_before",
            int,
            7,
            S("Settings", "Birthday coupons: days before the birthday"),
            minimum=0,
            maximum=60,
        ),
        _def(
            "coupons.birthday_value_fen",
            int,
            2000,
            S("Settings", "Birthday coupons: amount off (fen)"),
            minimum=1,
            maximum=10_000_000,
        ),
        _def("coupons.holidays_enabled", bool, False, S("Settings", "Holiday coupons (automatic)")),
        _def(
            "coupons.holidays",
            list,
            ["中秋=2027-09-15", "国庆=2027-10-01", "春节=2027-02-06", "端午=2027-06-09"],
            S("Settings", "Holidays (NAME=YYYY-MM-DD, one per year each)"),
        ),
        _def(
            "coupons.holiday_days_before",
            int,
            7,
            S("Settings", "Holiday coupons: days before the holiday"),
            minimum=0,
            maximum=60,
        ),
        _def(
            "coupons.holiday_value_fen",
            int,
            1000,
            S("Settings", "Holiday coupons: amount off (fen)"),
            minimum=1,
            maximum=10_000_000,
        ),
        _def("coupons.win_back_enabled", bool, False, S("Settings", "Win-back coupons for churn warnings (automatic)")),
        _def(
            "coupons.win_back_value_fen",
            int,
            2000,
            S("Settings", "Win-back coupons: amount off (fen)"),
            minimum=1,
            maximum=10_000_000,
        ),
        _def("coupons.logo_file", str, "", S("Settings", "Logo on coupons (image file; empty: the store's initial)")),
        _def(
            "privacy.inactive_months",
            int,
            24,
            S("Settings", "Members inactive for review after (months)"),
            minimum=6,
            maximum=120,
        ),
        _def("segments.period_months", int, 12, S("Settings", "Segments: period (months)"), minimum=1, maximum=36),
        _def("segments.vip_pct", int, 1, S("Settings", "Pyramid: VIP share (%)"), minimum=1, maximum=50),
        _def("segments.major_pct", int, 4, S("Settings", "Pyramid: major customers' share (%)"), minimum=0, maximum=50),
        _def(
            "segments.regular_pct",
            int,
            15,
            S("Settings", "Pyramid: regular customers' share (%)"),
            minimum=0,
            maximum=80,
        ),
        _def("segments.new_days", int, 30, S("Settings", "Lifecycle: new for (days)"), minimum=1, maximum=365),
        _def("segments.lost_days", int, 180, S("Settings", "Lifecycle: lost after (days)"), minimum=30, maximum=1000),
        _def(
            "segments.loyal_months",
            int,
            6,
            S("Settings", "Lifecycle: loyal from (purchase months of 12)"),
            minimum=1,
            maximum=12,
        ),
        _def(
            "segments.dormant_factor_pct",
            int,
            200,
            S("Settings", "Lifecycle: dormant after (% of usual interval)"),
            minimum=100,
            maximum=1000,
        ),
        _def(
            "segments.churn_p_alive_pct",
            int,
            50,
            S("Settings", "Churn warning below P(alive) (%)"),
            minimum=1,
            maximum=99,
        ),
        _def(
            "segments.churn_min_purchases",
            int,
            3,
            S("Settings", "Churn warning from (purchase days)"),
            minimum=2,
            maximum=100,
        ),
        _def(
            "segments.horizon_days", int, 365, S("Settings", "Customer value horizon (days)"), minimum=7, maximum=1825
        ),
    ]
}


def _coerce(definition: SettingDef, value: Any) -> Any:
    if definition.kind is bool:
        if not isinstance(value, bool):
            raise ValidationError(
                S("Errors", "{label}: expected yes or no"), field=definition.key, label=definition.label
            )
        return value
    if definition.kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(
                S("Errors", "{label}: expected a whole number"), field=definition.key, label=definition.label
            )
        if (definition.minimum is not None and value < definition.minimum) or (
            definition.maximum is not None and value > definition.maximum
        ):
            raise ValidationError(
                S("Errors", "{label}: must be between {low} and {high}"),
                field=definition.key,
                label=definition.label,
                low=definition.minimum,
                high=definition.maximum,
            )
        return value
    if definition.kind is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValidationError(S("Errors", "{label}: expected a list"), field=definition.key, label=definition.label)
        return value
    if not isinstance(value, str):
        raise ValidationError(S("Errors", "{label}: expected text"), field=definition.key, label=definition.label)
    if definition.choices and value not in definition.choices:
        raise ValidationError(
            S("Errors", "{label}: not one of the choices"), field=definition.key, label=definition.label
        )
    return value


_ALL_SETTINGS = select(Setting.key, Setting.value)


@dataclass(frozen=True)
class StoreSettings:
    """Every setting of the store, typed: one attribute per registry key (the key with dots as underscores).
    Each attribute is read by the code it governs (tests/test_settings.py fails for one that nothing reads)."""

    store_name: str
    store_timezone: str
    points_fen_per_point: int
    points_redeem_points_per_yuan: int
    points_redeem_cap_pct: int
    points_expiry_mode: str
    points_expiry_months: int
    points_expiry_clearing_date: str
    points_expiry_warning_days: int
    points_member_day_weekday: int
    points_member_day_from: str
    points_member_day_until: str
    points_member_day_multiplier_pct: int
    points_excluded_categories: tuple[str, ...]
    points_adjust_limit_without_approval: int
    referral_bonus_points: int
    tiers_basis: str
    tiers_review_months: int
    cards_prefix: str
    cards_print_enabled: bool
    coupons_birthday_enabled: bool
    coupons_birthday_days_before: int
    coupons_birthday_value_fen: int
    coupons_holidays_enabled: bool
    coupons_holidays: tuple[str, ...]
    coupons_holiday_days_before: int
    coupons_holiday_value_fen: int
    coupons_win_back_enabled: bool
    coupons_win_back_value_fen: int
    coupons_logo_file: str
    privacy_inactive_months: int
    segments_period_months: int
    segments_vip_pct: int
    segments_major_pct: int
    segments_regular_pct: int
    segments_new_days: int
    segments_lost_days: int
    segments_loyal_months: int
    segments_dormant_factor_pct: int
    segments_churn_p_alive_pct: int
    segments_churn_min_purchases: int
    segments_horizon_days: int

    def by_key(self) -> dict[str, Any]:
        """Key -> value, for the settings form, which is built from the registry."""
        return {key: _plain(getattr(self, attribute_of(key))) for key in REGISTRY}

    @classmethod
    def defaults(cls) -> StoreSettings:
        return cls.from_values({key: d.default for key, d in REGISTRY.items()})

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> StoreSettings:
        """From key -> value for every key; the fields are in the registry's order (read on every purchase)."""
        return cls(*[_frozen(values[key]) for key in REGISTRY])


def attribute_of(key: str) -> str:
    """The StoreSettings attribute of a registry key."""
    return key.replace(".", "_")


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


VERSION_KEY = "settings.version"
"""A row of the settings table that every change of the store's settings rewrites with a new random value
(SettingsService.update; migration 0018 writes the first). A Database keeps the settings it last read with the
version they were read at, so reading them again is one primary-key lookup, and a change made at any counter of a
chain is seen at every counter's next read. Whatever writes settings rows must write a new version too."""
_VERSION = select(Setting.value).where(Setting.key == VERSION_KEY)
VERSION_SQL = f"SELECT value FROM settings WHERE key = '{VERSION_KEY}'"
"""The version row's value, as a subquery another reader's statement may carry (`settings_at`)."""


class SettingsMemo:
    """The settings one store last gave, with their version (one per Database, shared by its sessions and
    threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: tuple[str, StoreSettings] | None = None

    def at(self, version: str) -> StoreSettings | None:
        kept = self._kept
        return kept[1] if kept is not None and kept[0] == version else None

    def latest(self) -> tuple[str, StoreSettings] | None:
        """The settings last kept and their version (a reader that reads the version in its own statement checks
        it there, `app.members.profile`)."""
        return self._kept

    def keep(self, version: str, settings: StoreSettings) -> None:
        with self._lock:
            self._kept = (version, settings)

    def forget(self) -> None:
        with self._lock:
            self._kept = None

    @staticmethod
    def of(memo: dict[str, Any]) -> SettingsMemo:
        """The settings memo in a Database's memo (made on first use)."""
        kept = memo.get("settings")
        if kept is None:
            kept = memo.setdefault("settings", SettingsMemo())  # one memo even if two threads get here at once
        assert isinstance(kept, SettingsMemo)
        return kept


def _session_memo(session: Session) -> SettingsMemo | None:
    memo_of_store = session.info.get("memo")
    return SettingsMemo.of(memo_of_store) if isinstance(memo_of_store, dict) else None


def read_settings(session: Session) -> StoreSettings:
    """Every setting, stored values over defaults (unknown stored keys and values of the wrong type are ignored).
    A session of a Database reads the version row first and takes the settings it kept when that has not changed."""
    return settings_on(session.connection(), _session_memo(session))


def settings_at(session: Session, version: object) -> StoreSettings:
    """`read_settings` for a caller that read the version row (VERSION_SQL) in a statement of its own, beside
    something else it needed (app.loyalty.tiers: beside the tiers, one round trip less a purchase): the settings
    kept at that version, else read."""
    memo = _session_memo(session)
    kept = memo.at(version) if memo is not None and isinstance(version, str) else None
    return kept if kept is not None else settings_on(session.connection(), memo)


def settings_on(conn: Connection | DriverReads, memo: SettingsMemo | None) -> StoreSettings:
    """`read_settings` on a plain connection (or the driver's, `db.driver.DriverReads`), with the store's memo
    (`SettingsMemo.of(db.memo)`) if there is one."""
    if memo is not None:
        version = conn.scalar(_VERSION)
        kept = memo.at(version) if isinstance(version, str) else None
        if kept is not None:
            return kept
    values = {key: d.default for key, d in REGISTRY.items()}
    version = None
    for key, value in conn.execute(_ALL_SETTINGS):
        if key in REGISTRY:
            try:
                values[key] = _coerce(REGISTRY[key], value)
            except ValidationError:
                continue
        elif key == VERSION_KEY:
            version = value
    settings = StoreSettings.from_values(values)
    if memo is not None and isinstance(version, str):
        memo.keep(version, settings)  # read in the same statement as the values: the version they belong to
    return settings


@dataclass(frozen=True)
class SettingsResult:
    changes: Changes


class SettingsService:
    def __init__(self, db: Database, operator: Operator) -> None:
        self.db = db
        self.operator = operator

    def current(self) -> StoreSettings:
        return self.db.read(read_settings)

    def all(self) -> dict[str, Any]:
        """Key -> value, for the settings form."""
        return self.current().by_key()

    def update(self, changes: dict[str, Any]) -> SettingsResult:
        """Owner only. All changes are validated before any is stored."""
        require_role(self.operator, StaffRole.OWNER)
        unknown = [k for k in changes if k not in REGISTRY]
        if unknown:
            raise ValidationError(S("Errors", "Unknown setting: {key}"), key=unknown[0])
        clean = {k: _coerce(REGISTRY[k], v) for k, v in changes.items()}

        def work(session: Session) -> None:
            before = read_settings(session).by_key()
            for key, value in [*clean.items(), (VERSION_KEY, uuid.uuid4().hex)]:
                row = session.get(Setting, key)
                if row is None:
                    session.add(Setting(key=key, value=value, updated_by_id=self.operator.staff_id))
                else:
                    row.value = value
                    row.updated_by_id = self.operator.staff_id
            record_audit(
                session,
                self.operator,
                "update",
                "settings",
                None,
                {k: {"from": before[k], "to": v} for k, v in clean.items()},
            )

        try:
            self.db.write(work)
        finally:  # the new version tells every counter; this one need not even look
            SettingsMemo.of(self.db.memo).forget()
        return SettingsResult(Changes.SETTINGS)
