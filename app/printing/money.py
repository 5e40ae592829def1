"""Money as the customer reads it. Amounts are integer fen everywhere; this is the only place they become text."""

from __future__ import annotations


def format_yuan(fen: int) -> str:
    """`¥1,234.50` from 123450 fen; `-¥12.30` for a refund.

    Integer arithmetic only: a float would print 0.1 + 0.2 yuan as ¥0.30000000000000004 or round a cent away.
    """
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"format_yuan needs integer fen, got {type(fen).__name__}")
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"
