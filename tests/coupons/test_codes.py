"""Coupon codes: the check character catches every single substitution and every swap of neighbours, proved
exhaustively on a sample of real codes; no look-alike characters; random and unique."""

from __future__ import annotations

from app.coupons.codes import ALPHABET, LENGTH, grouped, is_well_formed, new_codes, normalise

SAMPLE = 200


def test_alphabet_has_no_look_alikes_and_a_prime_size() -> None:
    assert not set("0O1IZ") & set(ALPHABET)
    assert len(set(ALPHABET)) == len(ALPHABET) == 31


def test_new_codes_are_unique_well_formed_and_short() -> None:
    codes = new_codes(5000)
    assert len(set(codes)) == 5000
    assert all(len(code) == LENGTH == 11 and is_well_formed(code) for code in codes)


def test_every_single_substitution_is_caught() -> None:
    checked = 0
    for code in new_codes(SAMPLE):
        for position in range(LENGTH):
            for char in ALPHABET:
                if char != code[position]:
                    assert not is_well_formed(code[:position] + char + code[position + 1 :]), (code, position, char)
                    checked += 1
    assert checked == SAMPLE * LENGTH * 30


def test_every_swap_of_neighbours_is_caught() -> None:
    checked = 0
    for code in new_codes(SAMPLE):
        for position in range(LENGTH - 1):
            first, second = code[position], code[position + 1]
            if first == second:
                continue
            swapped = code[:position] + second + first + code[position + 2 :]
            assert not is_well_formed(swapped), (code, position)
            checked += 1
    assert checked > SAMPLE * (LENGTH - 1) * 0.9


def test_typed_forms_are_accepted_and_look_alikes_refused() -> None:
    code = new_codes(1)[0]
    assert is_well_formed(normalise(grouped(code).lower()))
    assert is_well_formed(normalise(f"  {code[:4]} {code[4:]} "))
    assert not is_well_formed(normalise(code[:-1]))
    assert not is_well_formed(normalise(code + "2"))
    assert not is_well_formed(normalise("O" + code[1:]))  # O is never in a code
