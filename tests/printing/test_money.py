from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.money import format_yuan


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "¥0.00"),
        (5, "¥0.05"),
        (1230, "¥12.30"),
        (-1230, "-¥12.30"),
        (-5, "-¥0.05"),
        (100000, "¥1,000.00"),
        (123456789, "¥1,234,567.89"),
    ],
)
def test_examples(fen: int, text: str) -> None:
    assert format_yuan(fen) == text


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_reads_back_as_the_same_amount(fen: int) -> None:
    text = format_yuan(fen)
    assert text.startswith("-¥" if fen < 0 else "¥")
    whole, _, cents = text.lstrip("-¥").partition(".")
    assert len(cents) == 2
    assert all(len(group) == 3 for group in whole.split(",")[1:])
    assert Decimal(text.replace("¥", "").replace(",", "")) * 100 == fen


@given(st.integers(min_value=1, max_value=10**12))
def test_negative_is_the_positive_with_a_sign(fen: int) -> None:
    assert format_yuan(-fen) == "-" + format_yuan(fen)


@pytest.mark.parametrize("value", [12.3, True, "1230", Decimal("12.30")])
def test_refuses_anything_but_integer_fen(value: object) -> None:
    with pytest.raises(TypeError):
        format_yuan(value)  # type: ignore[arg-type]
