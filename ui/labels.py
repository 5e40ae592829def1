"""Translated names for the stored vocabularies (roles, genders, ledger sources, setting choices).

Keyed by the stored value, so the GUI needs no import of `db.enums` (and so no SQLAlchemy) to show them."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from app.i18n import QT_TRANSLATE_NOOP

CONTEXT = "Labels"

ROLES = {
    "cashier": QT_TRANSLATE_NOOP("Labels", "Cashier"),
    "manager": QT_TRANSLATE_NOOP("Labels", "Manager"),
    "owner": QT_TRANSLATE_NOOP("Labels", "Owner"),
}
GENDERS = {
    "unknown": QT_TRANSLATE_NOOP("Labels", "Not given"),
    "female": QT_TRANSLATE_NOOP("Labels", "Female"),
    "male": QT_TRANSLATE_NOOP("Labels", "Male"),
}
LEDGER_SOURCES = {
    "sale": QT_TRANSLATE_NOOP("Labels", "Earned on a purchase"),
    "redemption": QT_TRANSLATE_NOOP("Labels", "Paid with points"),
    "gift": QT_TRANSLATE_NOOP("Labels", "Gift redemption"),
    "adjustment": QT_TRANSLATE_NOOP("Labels", "Adjustment"),
    "expiry": QT_TRANSLATE_NOOP("Labels", "Expired"),
    "reversal": QT_TRANSLATE_NOOP("Labels", "Reversed by a return"),
    "survey_reward": QT_TRANSLATE_NOOP("Labels", "Survey reward"),
    "referral": QT_TRANSLATE_NOOP("Labels", "Referral bonus"),
    "import": QT_TRANSLATE_NOOP("Labels", "Imported"),
}
SALE_KINDS = {
    "sale": QT_TRANSLATE_NOOP("Labels", "Purchase"),
    "return": QT_TRANSLATE_NOOP("Labels", "Return"),
}
MEMBER_STATUSES = {
    "active": QT_TRANSLATE_NOOP("Labels", "Active"),
    "frozen": QT_TRANSLATE_NOOP("Labels", "Frozen"),
    "anonymised": QT_TRANSLATE_NOOP("Labels", "Anonymised"),
}
SETTING_CHOICES = {
    "none": QT_TRANSLATE_NOOP("Labels", "Never expire"),
    "rolling": QT_TRANSLATE_NOOP("Labels", "Rolling (months after earning)"),
    "yearly": QT_TRANSLATE_NOOP("Labels", "Yearly clearing date"),
    "spend": QT_TRANSLATE_NOOP("Labels", "12-month spend"),
    "points": QT_TRANSLATE_NOOP("Labels", "12-month points"),
}


def label(table: dict[str, str], value: object) -> str:
    """The translated name of a stored value; an unknown value is shown as stored rather than hidden."""
    key = str(value)
    text = table.get(key)
    return QCoreApplication.translate(CONTEXT, text) if text else key
