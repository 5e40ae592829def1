"""The GUI's lanes of work. The task runner (ui/tasks.py) keeps one worker per lane, so nothing a back-office screen
starts can delay the counter:

- `COUNTER`: the counter's lookups, member profile and writes (purchase, return, gift, adjustment, registration).
  One thread, with its own SQLite connection (`db.engine.counter_connection`); serial, so a lookup never overtakes
  the sale recorded before it.
- `BROWSE`: lists, reports, charts and the settings screens. It is the default, so a new screen is never on the
  counter's lane by mistake. One serial thread on the pooled connections; WAL lets its reads run beside the
  counter's writes.
- `HEAVY`: daily maintenance, segment refreshes, imports and big PDFs. One serial thread of its own, so a long job
  never holds up browsing either. The jobs write in short transactions that leave the writer free (expiry works in
  batches of a few dozen members), and the biggest computations run in a child process (app/workers.py).

This module imports nothing heavy: the runner is built before the window is shown, long before SQLAlchemy is loaded.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum

GIL_SWITCH_S = 0.001
"""How long a busy background thread may hold Python's interpreter lock before the counter's thread or the GUI's
gets it (Python's default is 5 ms; a lookup takes the lock a dozen times, so behind a segment refresh or a PDF it
could wait 5 ms each time)."""


class Lane(Enum):
    COUNTER = "counter"
    BROWSE = "browse"
    HEAVY = "heavy"


@contextmanager
def working_in(lane: Lane) -> Iterator[None]:
    """What a lane's worker wraps each task in: the counter's tasks use the counter's own connection."""
    if lane is not Lane.COUNTER:
        yield
        return
    from db.plain import counter_connection

    with counter_connection():
        yield


def favour_the_counter() -> None:
    """Set once at start: background threads hand the interpreter lock over within GIL_SWITCH_S."""
    sys.setswitchinterval(GIL_SWITCH_S)
