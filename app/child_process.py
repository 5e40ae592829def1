"""Long work in a forked process of its own, so the interpreter that asked for it (the GUI's, with the counter's
lookups) stays free: the child reads, computes and writes through its own database connections.

Unlike `app.workers.in_child` (a stream of items one way), the child here reports progress and waits for the
answer, exactly like a progress callback in this process: the work stops at the same points when told to. The
caller decides whether a fork helps (`app.workers.fork_helps`; not on Windows, in a bundled app or on one core) and
otherwise calls the work itself; forked, the work must not use the connections it inherited.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import pickle
import sys
from collections.abc import Callable
from typing import Any, TypeVar

Progress = Callable[[int, int, str], bool]
Result = TypeVar("Result")

POLL_S = 1.0


def run_in_child(work: Callable[[Progress], Result], progress: Progress, name: str) -> Result:
    """`work(progress)` in a forked child. The child's progress calls are answered by `progress` here; its result
    or its exception comes back as if raised here. If this side stops early (an exception here), the child is
    ended: its open transaction rolls back."""
    if sys.platform == "win32":  # no fork there: callers run the work themselves (fork_helps), this is for typing
        context = multiprocessing.get_context("spawn")
    else:
        context = multiprocessing.get_context("fork")
    here, there = context.Pipe()
    child = context.Process(target=_serve, args=(work, there), name=name, daemon=True)
    child.start()
    there.close()
    try:
        while True:
            if not here.poll(POLL_S):
                if not child.is_alive():
                    raise RuntimeError(f"the {name} process died (exit code {child.exitcode})")
                continue
            kind, payload = here.recv()
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


def _serve(work: Callable[[Progress], Any], channel: multiprocessing.connection.Connection) -> None:
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


def _portable(exc: BaseException) -> BaseException:
    """The exception itself if it survives the trip, else its type and text as a RuntimeError."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc
