"""Long work in a process of its own, so the interpreter that asked for it (the GUI's, with the counter's lookups)
stays free. Python's interpreter lock is per process: a background thread that holds it in C code (SQLAlchemy's row
processing over big results, numpy, SQLite building an index) holds up every counter lookup for as long, whatever
the switch interval says. In a child it holds only its own.

- On Linux the child is forked: it starts at once, with the modules already loaded.
- Elsewhere (Windows) it is spawned: a fresh interpreter imports what the work needs (a bundled program's entry
  point calls `multiprocessing.freeze_support()`). The work and its arguments are pickled, so the work is a
  module-level function or a `functools.partial` of one, with plain arguments. The tests run that path on Linux
  too (`method="spawn"`).

The child reports progress and waits for the answer, exactly like a progress callback in this process: the work
stops at the same points when told to (cancel). Its result or its exception comes back as if raised here; a child
that dies (killed, out of memory) is reported as `ChildDied`. Either way the database rolls back the child's open
transaction, so a job ended anywhere leaves only whole transactions behind.

`run_job` gives the work a `Database` of its own on the same store (a child never uses this process's
connections); it hears when the counter here wants the writer (`Database.share_counter_signal`), so maintenance
batches still end at once for a sale. Inside a child, work runs where it is (`in_a_child`): a job never starts
another process for a part of itself.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import pickle
import sys
import threading
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.engine import URL

from app.errors import MemberDeskError
from app.i18n import QT_TRANSLATE_NOOP as S
from db.engine import CounterSignal, Database

Progress = Callable[[int, int, str], bool]
Result = TypeVar("Result")

POLL_S = 1.0
"""How often a silent child is checked for being alive."""
PARENT_GONE = 70
"""The exit code of a job's process whose parent died."""

log = logging.getLogger("memberdesk.jobs")


class ChildDied(MemberDeskError):
    """The child ended without an answer (killed, out of memory): what it had committed stays, the rest was undone."""

    def __init__(self, exit_code: int | None) -> None:
        super().__init__(
            S(
                "Errors",
                "A background job stopped unexpectedly (exit code {code}). What it had finished is kept; "
                "its unfinished step was undone. It runs again at the next maintenance or when started again.",
            ),
            code=str(exit_code),
        )


def start_method() -> str:
    """Fork on Linux; spawn elsewhere (Windows has no fork, and macOS's system libraries do not survive one)."""
    forks = sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()
    return "fork" if forks else "spawn"


def in_a_child() -> bool:
    """True inside a job's own process (or any other multiprocessing child)."""
    return multiprocessing.parent_process() is not None


def run_in_child(
    work: Callable[[Progress], Result], progress: Progress, name: str, *, method: str | None = None
) -> Result:
    """`work(progress)` in a child process. The child's progress calls are answered by `progress` here; its result
    or its exception comes back as if raised here. If this side stops early (an exception here), the child is
    ended: its open transaction rolls back."""
    context: Any = multiprocessing.get_context(method or start_method())  # fork or spawn, whichever the system has
    here, there = context.Pipe()
    child = context.Process(target=_serve, args=(work, there), name=name, daemon=True)
    child.start()
    there.close()
    try:
        while True:
            try:
                if not here.poll(POLL_S):
                    if not child.is_alive():
                        raise EOFError
                    continue
                kind, payload = here.recv()
            except EOFError:
                child.join(POLL_S)
                log.warning("the %s process died (exit code %s)", name, child.exitcode)
                raise ChildDied(child.exitcode) from None
            if kind == "progress":
                here.send(bool(progress(*payload)))
            elif kind == "done":
                result: Result = payload
                return result
            else:
                raise payload
    finally:
        here.close()
        child.join(timeout=POLL_S)
        if child.is_alive():
            child.terminate()
            child.join()


def run_job(
    db: Database,
    job: Callable[[Database, Progress], Result],
    progress: Progress,
    name: str,
    *,
    method: str | None = None,
) -> Result:
    """`job(database, progress)` in a child process with a `Database` of its own on `db`'s store; here, as it is,
    when this already is a child."""
    if in_a_child():
        return job(db, progress)
    method = method or start_method()
    counter_idle = multiprocessing.get_context(method).Event()
    stop_sharing = db.share_counter_signal(counter_idle)
    try:
        return run_in_child(partial(_on_own_database, db.url, counter_idle, job), progress, name, method=method)
    finally:
        stop_sharing()


def _on_own_database(
    url: URL, counter_idle: CounterSignal, job: Callable[[Database, Progress], Result], progress: Progress
) -> Result:
    db = Database(url, counter_idle=counter_idle)
    try:
        return job(db, progress)
    finally:
        db.dispose()


def _serve(work: Callable[[Progress], Any], channel: multiprocessing.connection.Connection) -> None:
    threading.Thread(target=_end_with_the_parent, name="parent-watch", daemon=True).start()

    def relay(done: int, total: int, what: str) -> bool:
        channel.send(("progress", (done, total, what)))
        answer: bool = channel.recv()
        return answer

    try:
        channel.send(("done", work(relay)))
    except BaseException as exc:  # raised again in the asking process, unless that side has stopped listening
        with contextlib.suppress(OSError):
            channel.send(("error", _portable(exc)))
    finally:
        channel.close()


def _end_with_the_parent() -> None:
    """A job's process ends when the program that started it is gone (killed, crashed): it writes under that
    program's store lock (app/storelock.py), and its open transaction is rolled back with it."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        parent.join()
        os._exit(PARENT_GONE)


def _portable(exc: BaseException) -> BaseException:
    """The exception itself if it survives the trip, else its type and text as a RuntimeError."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc
