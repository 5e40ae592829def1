"""Coupon codes: unguessable, short enough to type when a scan fails, and self-checking.

A code is 10 random characters and one check character from a 31-letter alphabet without the look-alikes 0/O, 1/I
and Z/2. 31 is prime, so the weighted sum modulo 31 (weights 1…11, all different and non-zero) catches every single
mistyped character and every swap of two neighbours: both change the sum by a non-zero multiple of a number that
31 does not divide. 31^10 ≈ 8·10^14 codes: guessing one that exists in a store holding a million is ~1 in 10^9.
"""

from __future__ import annotations

import operator
import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXY"
BASE = len(ALPHABET)  # 31, a prime
RANDOM_LENGTH = 10
LENGTH = RANDOM_LENGTH + 1
_VALUE = {char: index for index, char in enumerate(ALPHABET)}
_ACCEPTED_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "Z": "2", "-": None, " ": None})
# Random bytes below 248 (= 8 × 31) map evenly onto the alphabet; the others are dropped.
_EVEN_LIMIT = 256 - 256 % BASE
_TO_CHARS = bytes(ord(ALPHABET[b % BASE]) if b < _EVEN_LIMIT else 0 for b in range(256))
_UNEVEN = bytes(range(_EVEN_LIMIT, 256))
_TO_VALUES = bytes(_VALUE.get(chr(b), 0) for b in range(256))
_WEIGHTS = range(1, LENGTH + 1)
_LAST_WEIGHT_INVERSE = pow(LENGTH, -1, BASE)


def check_character(body: str) -> str:
    """The character that makes the weighted sum of `body` + it divisible by 31 (body: RANDOM_LENGTH alphabet
    characters)."""
    total = sum(map(operator.mul, _WEIGHTS, body.encode("ascii").translate(_TO_VALUES)))
    # 11 × c ≡ -total (mod 31); the inverse of the weight exists because 31 is prime.
    return ALPHABET[(-total * _LAST_WEIGHT_INVERSE) % BASE]


def is_well_formed(code: str) -> bool:
    """The right length, only alphabet characters, and the check character right."""
    if len(code) != LENGTH or any(char not in _VALUE for char in code):
        return False
    return sum((index + 1) * _VALUE[char] for index, char in enumerate(code)) % BASE == 0


def normalise(typed: str) -> str:
    """What a cashier typed or a scanner sent, as stored: upper case, no spaces or hyphens. A typed O, I or Z is
    turned into 0, 1 or 2, which are not in the alphabet either, so the check still refuses it plainly."""
    return typed.strip().upper().translate(_ACCEPTED_LOOK_ALIKES)


def grouped(code: str) -> str:
    """For reading aloud and typing: ABCD-EFGH-JKL."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def new_codes(count: int) -> list[str]:
    """`count` different random codes (from `secrets`), each with its check character."""
    codes: set[str] = set()
    while len(codes) < count:
        need = (count - len(codes)) * RANDOM_LENGTH
        chars = secrets.token_bytes(need + need // 8 + 16).translate(_TO_CHARS, _UNEVEN).decode("ascii")
        for start in range(0, len(chars) - RANDOM_LENGTH + 1, RANDOM_LENGTH):
            body = chars[start : start + RANDOM_LENGTH]
            codes.add(body + check_character(body))
            if len(codes) == count:
                break
    return list(codes)
