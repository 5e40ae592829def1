"""Judging one cell of an imported file: dates, times, points, gender. Each function returns the value or raises
ValidationError with a message naming the column, so one bad cell refuses its row and nothing else.

Dates and times are read whole (`2020-01-01xyz` is refused, not cut to its first ten characters) in the forms an
old system or Excel writes them: `2024-05-01`, `2024/5/1`, `2024.5.1`, `20240501`, each optionally followed by a
time `10:00`, `10:00:00` or `10:00:00.123` (after a space or `T`) and an offset `Z`, `+08:00` or `+0800` of at most
14 hours. Digits may be full-width; other digit scripts are refused.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from app.errors import ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.members.validation import fold_width
from db.enums import Gender

POINTS_MAX = 100_000_000
"""An opening balance above this is a typo or a unit mix-up (fen for yuan), not points."""
OLDEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
MAX_OFFSET = dt.timedelta(hours=14)

_DATE = r"([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})|([0-9]{4})([0-9]{2})([0-9]{2})"
_TIME = r"(?:[T ]+([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?)?"
_OFFSET = r"\s*(Z|[+-][0-9]{2}:?[0-9]{2})?"
_MOMENT = re.compile(f"(?:{_DATE}){_TIME}{_OFFSET}", re.IGNORECASE)
_POINTS = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+")

GENDERS: dict[str, Gender] = {
    "": Gender.UNKNOWN,
    "unknown": Gender.UNKNOWN,
    "未知": Gender.UNKNOWN,
    "f": Gender.FEMALE,
    "female": Gender.FEMALE,
    "女": Gender.FEMALE,
    "m": Gender.MALE,
    "male": Gender.MALE,
    "男": Gender.MALE,
}
GENDER_VALUES = {text: gender.value for text, gender in GENDERS.items()}


def _not_a_date(what: str, text: str) -> ValidationError:
    return ValidationError(
        S("Errors", "{what}: not a date (use YYYY-MM-DD or YYYY/M/D): {value}"), what=what, value=text[:40]
    )


def _parse(text: str, what: str) -> tuple[dt.datetime, bool]:
    """The moment as written (naive, or aware with its own offset) and whether it had a time of day."""
    match = _MOMENT.fullmatch(fold_width(text).strip())
    if match is None:
        raise _not_a_date(what, text)
    g = match.groups()
    year, month, day = (g[0], g[2], g[3]) if g[0] else (g[4], g[5], g[6])
    hour, minute, second, fraction, offset = g[7:12]
    try:
        moment = dt.datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")),
        )
    except ValueError:
        raise _not_a_date(what, text) from None
    if offset:
        if offset.upper() == "Z":
            delta = dt.timedelta(0)
        else:
            digits = offset[1:].replace(":", "")
            delta = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            if delta > MAX_OFFSET or int(digits[2:]) >= 60:
                raise ValidationError(
                    S("Errors", "{what}: a time zone offset is at most ±14:00: {value}"), what=what, value=text[:40]
                )
            delta = -delta if offset[0] == "-" else delta
        moment = moment.replace(tzinfo=dt.timezone(delta))
    return moment, hour is not None


def parse_date(text: str, what: str) -> dt.date | None:
    """A calendar date ('' gives None). A time of midnight is tolerated (Excel writes dates so); another is not."""
    if not text:
        return None
    moment, timed = _parse(text, what)
    if timed and (moment.time() != dt.time(0) or moment.tzinfo is not None):
        raise _not_a_date(what, text)
    return moment.date()


def parse_time(text: str, tz: ZoneInfo, what: str, *, now: dt.datetime) -> dt.datetime | None:
    """A date or date-time in the store's time zone (or with its own offset), as UTC; between 1900 and `now`."""
    if not text:
        return None
    moment, _timed = _parse(text, what)
    if not OLDEST.year <= moment.year <= now.year + 1:  # before converting: year 1 or 9999 overflows
        raise ValidationError(S("Errors", "{what}: a date lies in the future or before 1900."), what=what)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    utc = moment.astimezone(dt.UTC)
    if not OLDEST <= utc <= now:
        raise ValidationError(S("Errors", "{what}: a date lies in the future or before 1900."), what=what)
    return utc


def parse_points(text: str) -> int:
    """Opening points: a whole number from 0 to POINTS_MAX, thousands separators allowed."""
    if not text:
        return 0
    if text.isascii() and text.isdigit() and len(text) <= 9 and int(text) <= POINTS_MAX:
        return int(text)  # plain digits: the common case
    value = fold_width(text).strip()
    if not _POINTS.fullmatch(value) or int(value.replace(",", "")) > POINTS_MAX:
        raise ValidationError(
            S("Errors", "Points must be a whole number from 0 to {max}: {value}"), max=POINTS_MAX, value=text[:40]
        )
    return int(value.replace(",", ""))


def parse_gender(text: str) -> str:
    gender = GENDER_VALUES.get(text.lower())
    if gender is None:
        raise ValidationError(S("Errors", "Gender must be 男/女 or male/female: {value}"), value=text[:40])
    return gender
