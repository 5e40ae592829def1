"""Making rows in a second process while this one writes them (the demo generator, the member import).

Used only where processes can be forked (`fork_helps`): a spawned child (Windows) would re-run a frozen program's
entry point and import everything again, which costs more than it saves, and the producers hold open files that
cannot be pickled. There the rows are simply made in this process. `in_child` itself also works with spawn (for a
producer that pickles), so the same code is checked on a system without fork.
The child never touches the database; it only sends what it made through a queue.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import multiprocessing.queues
import os
import queue
import sys
from collections.abc import Callable, Generator
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

QUEUE_DEPTH = 3
"""Batches made ahead of the writer: enough to keep both cores busy, few enough to bound memory."""


def fork_helps() -> bool:
    """A forked worker pays off on a machine with a spare core, and never from a bundled app, nor from a job's own
    process (app/child_process.py), which may not start processes of its own."""
    return (
        (os.cpu_count() or 1) > 1
        and "fork" in multiprocessing.get_all_start_methods()
        and not getattr(sys, "frozen", False)
        and not multiprocessing.current_process().daemon
    )


if sys.platform == "win32":

    def _context(_method: str) -> multiprocessing.context.SpawnContext:
        return multiprocessing.get_context("spawn")

else:

    def _context(method: str) -> multiprocessing.context.SpawnContext | multiprocessing.context.ForkContext:
        return multiprocessing.get_context("fork") if method == "fork" else multiprocessing.get_context("spawn")


def in_child(
    produce: Callable[[], Generator[Item, None, Result]], name: str, method: str = "fork"
) -> Generator[Item, None, Result]:
    """The items `produce()` yields, made by a child process while the caller uses the previous ones; returns what
    `produce` returned. An exception in the child is raised here; stopping early (cancel, error) ends the child.
    With `method="spawn"` (the only one on Windows) `produce` must pickle."""
    context = _context(method)
    channel: multiprocessing.queues.Queue[tuple[str, Any]] = context.Queue(maxsize=QUEUE_DEPTH)
    child = context.Process(target=_work, args=(produce, channel), name=name, daemon=True)
    child.start()
    try:
        while True:
            try:
                kind, payload = channel.get(timeout=1.0)
            except queue.Empty:
                if not child.is_alive():
                    raise RuntimeError(f"the {name} process died (exit code {child.exitcode})") from None
                continue
            if kind == "item":
                yield payload
            elif kind == "done":
                result: Result = payload
                return result
            else:
                raise payload
    finally:
        if child.is_alive():
            child.terminate()
        child.join()


def _work(
    produce: Callable[[], Generator[Item, None, Result]], channel: multiprocessing.queues.Queue[tuple[str, Any]]
) -> None:
    try:
        items = produce()
        while True:
            try:
                channel.put(("item", next(items)))
            except StopIteration as stop:
                channel.put(("done", stop.value))
                break
    except BaseException as exc:  # handed to the writing process, which raises it
        channel.put(("error", exc))
    channel.close()
    channel.join_thread()
