"""The one place a member's fields are judged: what a cashier types or scans at the counter, what a dialog sends, and
what an imported file holds all pass through these functions, so a value gets the same limit and the same message
wherever it comes from.

Digits: a Chinese input method in full-width mode types `１３８…`, and Excel keeps what it was given. Full-width
ASCII (U+FF01–U+FF5E, what NFKC maps to ASCII one for one) and the ideographic space are folded to ASCII first, so
`１３８００１３８０００` is stored and compared as `13800138000`. Other characters that Unicode counts as digits
(superscripts `²`, circled `①`, Arabic-Indic `٣`, Devanagari…) are refused where a number is expected: NFKC would
turn `²` into `2` and `①` into `1`, which is not what anyone at a Chinese counter meant.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from operator import mul

from app.errors import ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S

NAME_MAX = 40
MEMBER_NO_MAX = 40
TAG_MAX = 40
TAGS_MAX = 20
NOTES_MAX = 2000
OLDEST_BIRTHDAY = dt.date(1900, 1, 1)

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_CARD = re.compile(r"[0-9A-Za-z]{6,20}")
_ID = re.compile(r"[0-9]{17}[0-9X]")
_PHONE_NOISE = re.compile(r"[\s\-()]")
_TAG_SEPARATORS = re.compile(r"[,，、;；]")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
"""Unicode's control characters (category Cc), as a regex: a million names are checked per import."""
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_LUHN_DOUBLED = str.maketrans("0123456789", "0246813579")
"""A digit doubled, less 9 when that makes two digits (Luhn)."""


def fold_width(raw: str) -> str:
    """Full-width ASCII and the ideographic space as plain ASCII (what an input method in full-width mode types)."""
    return raw.translate(_FULLWIDTH) if raw and not raw.isascii() else raw


def _has_control(text: str) -> bool:
    return _CONTROL.search(text) is not None


def normalize_phone(raw: str) -> str:
    """A mainland mobile number: 11 digits starting 1[3-9]; spaces, dashes and a +86/86 prefix are tolerated."""
    if raw and len(raw) == 11 and _MOBILE.fullmatch(raw):
        return raw  # as typed: the common case, and half the time of a million-row import's phone checks
    digits = _PHONE_NOISE.sub("", fold_width(raw or ""))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not _MOBILE.fullmatch(digits):
        raise ValidationError(S("Errors", "Not a mainland mobile number: {value}"), field="phone", value=raw[:40])
    return digits


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    if len(phone) != 11:
        return phone[:2] + "*" * max(0, len(phone) - 4) + phone[-2:]
    return f"{phone[:3]}****{phone[7:]}"


def clean_name(raw: str) -> str:
    """A member's name: 1 to NAME_MAX characters after trimming, no control characters."""
    name = (raw or "").strip()
    if not name:
        raise ValidationError(S("Errors", "Enter the member's name."), field="name")
    if len(name) > NAME_MAX:
        raise ValidationError(S("Errors", "A name has at most {max} characters."), field="name", max=NAME_MAX)
    if _has_control(name):
        raise ValidationError(S("Errors", "The name contains control characters."), field="name")
    return name


def clean_member_no(raw: str) -> str:
    """A member number from an old system ('' if none): at most MEMBER_NO_MAX characters, upper case, digits 0–9
    only (letters and Chinese are kept: old systems use them)."""
    if raw and raw.isascii() and raw.isalnum() and len(raw) <= MEMBER_NO_MAX:
        return raw.upper()  # letters and digits only: the common case (a million-row import checks one a row)
    number = fold_width(raw or "").strip().upper()
    if len(number) > MEMBER_NO_MAX:
        raise ValidationError(
            S("Errors", "A member number has at most {max} characters."), field="member_no", max=MEMBER_NO_MAX
        )
    if _SPACE_OR_CONTROL.search(number) or (
        not number.isascii() and any(ch.isdigit() and not ch.isascii() for ch in number)
    ):
        raise ValidationError(
            S("Errors", "A member number may hold no spaces, control characters or digits other than 0–9."),
            field="member_no",
        )
    return number


def clean_notes(raw: str | None) -> str | None:
    """Notes: at most NOTES_MAX characters; line breaks and tabs kept, other control characters (NUL, which
    PostgreSQL cannot store, among them) refused."""
    if not raw:
        return None
    notes = raw.strip()
    if len(notes) > NOTES_MAX:
        raise ValidationError(S("Errors", "Notes have at most {max} characters."), field="notes", max=NOTES_MAX)
    if _CONTROL.search(notes.replace("\n", "").replace("\r", "").replace("\t", "")):
        raise ValidationError(S("Errors", "The notes contain control characters."), field="notes")
    return notes or None


def split_tags(text: str) -> list[str]:
    """Tags as one cell of a file holds them: separated by , ， 、 or ;."""
    return _TAG_SEPARATORS.split(text or "")


def clean_tags(tags: Iterable[str]) -> list[str]:
    """Trimmed, blanks and repeats dropped; each at most TAG_MAX characters, at most TAGS_MAX of them."""
    clean: list[str] = []
    for raw in tags:
        tag = raw.strip()
        if not tag or tag in clean:
            continue
        if len(tag) > TAG_MAX or _has_control(tag):
            raise ValidationError(S("Errors", "A tag has at most {max} characters."), field="tags", max=TAG_MAX)
        clean.append(tag)
    if len(clean) > TAGS_MAX:
        raise ValidationError(S("Errors", "A member has at most {max} tags."), field="tags", max=TAGS_MAX)
    return clean


def check_birthday(day: dt.date | None, today: dt.date) -> dt.date | None:
    if day is not None and not OLDEST_BIRTHDAY <= day <= today:
        raise ValidationError(S("Errors", "The birthday is not a possible date."), field="birthday")
    return day


def id_check_char(first17: str) -> str:
    if len(first17) != len(_ID_WEIGHTS):
        raise ValueError("an ID number's check character is made from its first 17 digits")
    total = sum(map(mul, map(int, first17), _ID_WEIGHTS))
    return _ID_CHECK[total % 11]


def normalize_id_number(raw: str, *, today: dt.date | None = None) -> str:
    """A resident ID number (GB 11643-1999): 18 characters, valid birth date, ISO 7064 MOD 11-2 check character."""
    value = fold_width(raw or "").strip().upper()
    if not _ID.fullmatch(value):
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
    """The Luhn check digit of a string of digits: every second digit from the right doubled (its digits summed)."""
    backwards = body[::-1]
    total = sum(map(int, backwards[::2].translate(_LUHN_DOUBLED))) + sum(map(int, backwards[1::2]))
    return str(-total % 10)


def make_card_no(prefix: str, serial: int) -> str:
    """A 12-digit card number: prefix, zero-padded serial, Luhn check digit (catches any one mistyped digit)."""
    body = f"{prefix}{serial:0{11 - len(prefix)}d}"
    return body + luhn_check_digit(body)


def normalize_card_no(raw: str, prefix: str) -> str:
    """A card number typed or scanned. Our own cards (prefix, 12 digits) must pass their check digit; pre-printed
    cards of other series are accepted as 6–20 letters and digits."""
    if raw and raw.isascii() and raw.isalnum() and 6 <= len(raw) <= 20:
        value = raw.upper()  # letters and digits only: the common case, checked without folding or a pattern
    else:
        value = fold_width(raw or "").strip().upper()
        if not _CARD.fullmatch(value):
            raise ValidationError(S("Errors", "A card number has 6 to 20 letters or digits."), field="card_no")
    if value.isdigit() and len(value) == 12 and value.startswith(prefix) and luhn_check_digit(value[:-1]) != value[-1]:
        raise ValidationError(
            S("Errors", "This card number's check digit is wrong: scan again or retype it."), field="card_no"
        )
    return value
