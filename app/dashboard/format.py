"""A figure's value and change as text, the same on the page and on paper: yuan with two decimals from fen,
shares with one decimal from per mille, counts with thousands separators. Integer arithmetic only."""

from __future__ import annotations

from app.dashboard.figures import Figure
from app.money import format_yuan

NONE = "—"


def _permille(value: int) -> str:
    sign = "-" if value < 0 else ""
    whole, tenth = divmod(abs(value), 10)
    return f"{sign}{whole}.{tenth}%"


def format_value(figure: Figure, value: int | None) -> str:
    if value is None:
        return NONE
    if figure.unit == "fen":
        return format_yuan(value)
    if figure.unit == "permille":
        return _permille(value)
    return f"{value:,}"


def format_change(figure: Figure, change: int | None) -> str:
    """`+¥12.00`, `-3`, `+1.5%` (percentage points for a share), `±0`."""
    if change is None:
        return NONE
    if change == 0:
        return "±0"
    sign = "+" if change > 0 else ""
    if figure.unit == "fen":
        return ("+" if change > 0 else "") + format_yuan(change)
    if figure.unit == "permille":
        return sign + _permille(change)
    return f"{sign}{change:,}"
