"""The care desk's own settings: complaint channels and categories (editable lists), how long each severity may
stay open, when to call back, and the points a returned survey earns. Stored as one row of the `settings` table
(key `care`), so every counter of a chain shares them; changes are audited."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from app.errors import ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate
from app.security.operator import Operator, require_role
from app.trust.audit import record_audit
from db.engine import Database
from db.enums import ComplaintSeverity, StaffRole
from db.models import Setting

KEY = "care"
CHANNELS = ("counter", "phone", "wechat", "online", "other")
CHANNEL_LABELS = {
    "counter": S("Care", "Counter"),
    "phone": S("Care", "Phone"),
    "wechat": S("Care", "WeChat"),
    "online": S("Care", "Online"),
    "other": S("Care", "Other"),
}
SEVERITY_LABELS = {
    ComplaintSeverity.LOW: S("Care", "Low"),
    ComplaintSeverity.MEDIUM: S("Care", "Medium"),
    ComplaintSeverity.HIGH: S("Care", "High"),
}
MAX_HOURS = 24 * 90
MAX_REWARD = 10_000


def channel_label(code: str) -> str:
    """A built-in channel in the reader's language; a store's own channel as the store wrote it."""
    return translate("Care", CHANNEL_LABELS[code]) if code in CHANNEL_LABELS else code


def severity_label(severity: ComplaintSeverity | str) -> str:
    return translate("Care", SEVERITY_LABELS[ComplaintSeverity(severity)])


@dataclass(frozen=True)
class CareSettings:
    channels: tuple[str, ...] = CHANNELS
    categories: tuple[str, ...] = (
        "商品质量",
        "价格标签",
        "服务态度",
        "排队结账",
        "环境卫生",
        "缺货",
        "积分问题",
        "其他",
    )
    due_hours_high: int = 24
    due_hours_medium: int = 72
    due_hours_low: int = 168
    follow_up_days: int = 3
    survey_reward_points: int = 50

    def due_hours(self, severity: ComplaintSeverity) -> int:
        return {
            ComplaintSeverity.HIGH: self.due_hours_high,
            ComplaintSeverity.MEDIUM: self.due_hours_medium,
            ComplaintSeverity.LOW: self.due_hours_low,
        }[severity]

    def validated(self) -> CareSettings:
        channels = _clean_list(self.channels, S("Care", "channels"))
        categories = _clean_list(self.categories, S("Care", "categories"))
        for value in (self.due_hours_high, self.due_hours_medium, self.due_hours_low):
            if not 1 <= value <= MAX_HOURS:
                raise ValidationError(
                    S("Errors", "Time to resolve must be between 1 and {most} hours."),
                    field="due_hours",
                    most=MAX_HOURS,
                )
        if not 0 <= self.follow_up_days <= 60:
            raise ValidationError(S("Errors", "Follow-up days must be between 0 and 60."), field="follow_up_days")
        if not 0 <= self.survey_reward_points <= MAX_REWARD:
            raise ValidationError(
                S("Errors", "Survey reward must be between 0 and {most} points."), field="reward", most=MAX_REWARD
            )
        return replace(self, channels=channels, categories=categories)


def _clean_list(values: tuple[str, ...], what: str) -> tuple[str, ...]:
    cleaned: list[str] = []
    for value in values:
        text = value.strip()
        if len(text) > 20:
            raise ValidationError(S("Errors", "An entry is longer than 20 characters: {text}"), field=what, text=text)
        if text and text not in cleaned:
            cleaned.append(text)
    if not cleaned:
        raise ValidationError(
            S("Errors", "The list of {what} cannot be empty."), field=what, what=translate("Care", what)
        )
    return tuple(cleaned)


def read_care_settings(session: Session) -> CareSettings:
    row = session.get(Setting, KEY)
    stored: dict[str, Any] = row.value if row is not None and isinstance(row.value, dict) else {}
    defaults = asdict(CareSettings())
    values = {name: stored.get(name, default) for name, default in defaults.items()}
    try:
        return CareSettings(
            channels=tuple(values["channels"]),
            categories=tuple(values["categories"]),
            **{k: int(v) for k, v in values.items() if k not in ("channels", "categories")},
        ).validated()
    except (TypeError, ValueError, ValidationError):
        return CareSettings()


class CareSettingsService:
    def __init__(self, db: Database, operator: Operator) -> None:
        self.db = db
        self.operator = operator

    def current(self) -> CareSettings:
        return self.db.read(read_care_settings)

    def update(self, settings: CareSettings) -> CareSettings:
        """A manager or the owner; validated before anything is stored."""
        require_role(self.operator, StaffRole.MANAGER)
        clean = settings.validated()

        def work(session: Session) -> CareSettings:
            before = read_care_settings(session)
            value = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(clean).items()}
            row = session.get(Setting, KEY)
            if row is None:
                session.add(Setting(key=KEY, value=value, updated_by_id=self.operator.staff_id))
            else:
                row.value = value
                row.updated_by_id = self.operator.staff_id
            record_audit(session, self.operator, "update", "settings", KEY, {"from": asdict(before), "to": value})
            return clean

        return self.db.write(work)
