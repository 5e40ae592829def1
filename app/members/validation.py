"""Validators for what a cashier types or scans: mobile numbers, ID numbers (GB 11643), card numbers, amounts."""

from __future__ import annotations

import datetime as dt
import re

from app.errors import ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S

_MOBILE = re.compile(r"1[3-9]\d{9}")
_CARD = re.compile(r"[0-9A-Za-z]{6,20}")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def normalize_phone(raw: str) -> str:
    """A mainland mobile number: 11 digits starting 1[3-9]; spaces, dashes and a +86/86 prefix are tolerated."""
    if raw and len(raw) == 11 and _MOBILE.fullmatch(raw):
        return raw  # as typed: the common case, and half the time of a million-row import's phone checks
    digits = re.sub(r"[\s\-()]", "", raw or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not _MOBILE.fullmatch(digits):
        raise ValidationError(S("Errors", "Not a mainland mobile number: {value}"), field="phone", value=raw)
    return digits


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    if len(phone) != 11:
        return phone[:2] + "*" * max(0, len(phone) - 4) + phone[-2:]
    return f"{phone[:3]}****{phone[7:]}"


def id_check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def normalize_id_number(raw: str, *, today: dt.date | None = None) -> str:
    """A resident ID number (GB 11643-1999): 18 characters, valid birth date, ISO 7064 MOD 11-2 check character."""
    value = (raw or "").strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        raise ValidationError(S("Errors", "An ID number has 17 digits and a check digit or X."), field="id_number")
    try:
        born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise ValidationError(
            S("Errors", "The birth date in this ID number does not exist."), field="id_number"
        ) from None
    if born.year < 1900 or born > (today or dt.date.today()):
        raise ValidationError(S("Errors", "The birth date in this ID number does not exist."), field="id_number")
    if id_check_char(value[:17]) != value[17]:
        raise ValidationError(
            S("Errors", "The ID number's check digit is wrong; please check the number."), field="id_number"
        )
    return value


def luhn_check_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def make_card_no(prefix: str, serial: int) -> str:
    """A 12-digit card number: prefix, zero-padded serial, Luhn check digit (catches any one mistyped digit)."""
    body = f"{prefix}{serial:0{11 - len(prefix)}d}"
    return body + luhn_check_digit(body)


def normalize_card_no(raw: str, prefix: str) -> str:
    """A card number typed or scanned. Our own cards (prefix, 12 digits) must pass their check digit; pre-printed
    cards of other series are accepted as 6–20 letters and digits."""
    value = (raw or "").strip().upper()
    if not _CARD.fullmatch(value):
        raise ValidationError(S("Errors", "A card number has 6 to 20 letters or digits."), field="card_no")
    if value.isdigit() and len(value) == 12 and value.startswith(prefix) and luhn_check_digit(value[:-1]) != value[-1]:
        raise ValidationError(
            S("Errors", "This card number's check digit is wrong: scan again or retype it."), field="card_no"
        )
    return value
