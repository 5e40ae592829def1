"""Money: integer fen everywhere. These are the only places fen becomes text and text becomes fen."""

from __future__ import annotations

import re

from app.errors import ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.members.validation import fold_width

_AMOUNT = re.compile(r"([0-9]{1,9})(?:\.([0-9]{1,2}))?")


def format_yuan(fen: int) -> str:
    """`¥1,234.50` from 123450 fen; `-¥12.30` for a refund.

    Integer arithmetic only: a float would print 0.1 + 0.2 yuan as ¥0.30000000000000004 or round a cent away.
    """
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"format_yuan needs integer fen, got {type(fen).__name__}")
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"


def parse_yuan(raw: str) -> int:
    """Yuan with at most two decimals to integer fen, without ever going through float. Full-width digits are read
    as ASCII; other digit scripts are refused (app.members.validation)."""
    text = fold_width(raw or "").strip().replace("¥", "").replace("￥", "").replace(",", "")
    match = _AMOUNT.fullmatch(text)
    if not match:
        raise ValidationError(
            S("Errors", "Enter an amount in yuan with at most two decimals, e.g. 12.50."),
            field="amount",
            value=raw,
        )
    whole, frac = match.group(1), (match.group(2) or "").ljust(2, "0")
    return int(whole) * 100 + int(frac)


_TYPED = re.compile(r"(-?)(\d+)(?:\.(\d{0,2}))?")


def parse_typed_yuan(raw: str) -> int:
    """What a cashier typed into an amount field, to fen. A trailing point (`128.`) is accepted as still being typed;
    a sign or more digits than an amount has are read as typed, so the service's range check answers them (`-50` or
    `99999999999` get "more than ¥0 and at most …", not a format message)."""
    text = (raw or "").strip().replace("¥", "").replace("￥", "").replace(",", "")
    match = _TYPED.fullmatch(text)
    if not match:
        return parse_yuan(raw)
    sign, whole, frac = match.group(1), match.group(2), (match.group(3) or "").ljust(2, "0")
    fen = int(whole[:18]) * 100 + int(frac)  # 18 digits: far past any range, still an ordinary int for the database
    return -fen if sign else fen
