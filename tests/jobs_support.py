"""What the tests of background jobs share: a step that holds its interpreter's lock for seconds, the way
SQLAlchemy's row processing or numpy can, so a test sees whether a job shares the counter's interpreter."""

from __future__ import annotations

import re

HOLD_LETTERS = 25
"""A backtracking match over this many letters holds the interpreter's lock for two seconds or more (2^25 steps
in C, never handing the lock over), far longer than a lookup takes even on a busy machine."""


def hold_the_interpreter(letters: int = HOLD_LETTERS) -> bool:
    """Holds this interpreter's lock in C code: while it runs, no other thread of the same interpreter (the
    counter's) gets a single step in. Each letter less halves the time."""
    return re.match(r"(a+)+$", "a" * letters + "b") is None
