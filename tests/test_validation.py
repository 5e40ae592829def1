"""Property tests for what a cashier types or scans: amounts, phones, ID numbers, card numbers, pinyin keys."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.errors import ValidationError
from app.members.pinyin import pinyin_keys
from app.members.validation import (
    id_check_char,
    luhn_check_digit,
    make_card_no,
    mask_phone,
    normalize_card_no,
    normalize_id_number,
    normalize_phone,
)
from app.money import format_yuan, parse_yuan


@given(st.integers(min_value=0, max_value=999_999_999_99))
def test_yuan_text_round_trips_to_the_same_fen(fen: int) -> None:
    assert parse_yuan(format_yuan(fen)) == fen
    assert parse_yuan(f"{fen // 100}.{fen % 100:02d}") == fen


@pytest.mark.parametrize(("text", "fen"), [("12", 1200), ("12.5", 1250), ("0.01", 1), ("￥1,234.56", 123456)])
def test_yuan_examples(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["", "-1", "1.234", "abc", "1e3", "12.", ".5", "1 2"])
def test_bad_amounts(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_yuan(text)


@given(st.sampled_from("3456789"), st.integers(min_value=0, max_value=999_999_999))
def test_every_mainland_mobile_is_accepted_and_masked(second: str, rest: int) -> None:
    phone = f"1{second}{rest:09d}"
    assert normalize_phone(phone) == phone
    assert normalize_phone(f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}") == phone
    assert mask_phone(phone) == f"{phone[:3]}****{phone[7:]}"


@given(st.text(alphabet="0123456789-+ ", max_size=14))
def test_phone_normaliser_never_accepts_a_non_mobile(text: str) -> None:
    try:
        phone = normalize_phone(text)
    except ValidationError:
        return
    assert len(phone) == 11 and phone[0] == "1" and phone[1] in "3456789"


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31)), st.integers(0, 999))
def test_id_numbers_with_a_right_check_character_pass_and_any_wrong_one_fails(born: dt.date, seq: int) -> None:
    body = f"110105{born:%Y%m%d}{seq:03d}"
    good = body + id_check_char(body)
    assert normalize_id_number(good.lower(), today=dt.date(2026, 11, 23)) == good
    for wrong in "0123456789X":
        if wrong != good[-1]:
            with pytest.raises(ValidationError):
                normalize_id_number(body + wrong, today=dt.date(2026, 11, 23))


def test_known_id_number() -> None:
    assert normalize_id_number("11010519491231002X", today=dt.date(2026, 1, 1)) == "11010519491231002X"


@given(st.integers(min_value=1, max_value=10**9 - 1), st.integers(0, 10), st.integers(0, 9))
def test_card_check_digit_catches_any_single_digit_mistake(serial: int, pos: int, delta: int) -> None:
    card = make_card_no("88", serial)
    assert len(card) == 12 and luhn_check_digit(card[:-1]) == card[-1]
    assert normalize_card_no(card, "88") == card
    typo = card[:pos] + str((int(card[pos]) + delta) % 10) + card[pos + 1 :]
    if typo != card and typo.startswith("88"):
        with pytest.raises(ValidationError):
            normalize_card_no(typo, "88")


@settings(deadline=None)  # the first call loads pypinyin's dictionary
@given(st.text(alphabet="王李张刘陈单曾解仇朴区查盖欧阳小明华丽 ·", min_size=1, max_size=6))
def test_pinyin_keys_are_lowercase_ascii_and_initials_fit_the_full_reading(name: str) -> None:
    initials, full = pinyin_keys(name)
    assert initials.isascii() and full.isascii() and initials == initials.lower()
    assert len(initials) <= len(full)
