"""One writing program per SQLite store file.

SQLite's own locks keep two programs on one PC safe, but not two PCs reaching one file through a share (whose lock
calls lie), and the ledger is what gets damaged. So the store file has a companion `…sqlite3.lock`, held open and
locked by the program that has the store open, saying who that is. A second program — on this PC or another —
finds the lock taken and is told which program on which PC holds it. The operating system drops the lock when its
holder exits, a crash included, so a stale lock never needs clearing by hand.

One process may open the same store more than once (the GUI's store and a bulk import's own connections, tests):
those share the process's lock, counted, which is why the held locks are kept in a table of this module.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from app.errors import MemberDeskError
from app.i18n import QT_TRANSLATE_NOOP as S

LOCK_SUFFIX = ".lock"
LOCKED_BYTE = 4096
"""Windows locks byte ranges and refuses to let others read a locked range: the lock sits past the holder's note."""

STORE_IN_USE = S(
    "Errors",
    "The store {path} is already open in {program} (process {pid}) on the PC {host}, since {since}. Close it there "
    "first: two programs writing one store file can damage it.",
)
STORE_IN_USE_UNKNOWN = S(
    "Errors",
    "The store {path} is already open in another program. Close it first: two programs writing one store file can "
    "damage it.",
)


class StoreInUse(MemberDeskError):
    pass


@dataclass
class _Held:
    handle: IO[bytes]
    count: int


_held: dict[Path, _Held] = {}
_held_guard = threading.Lock()


def lock_path(store_file: Path) -> Path:
    return store_file.with_name(store_file.name + LOCK_SUFFIX)


def _try_lock(handle: IO[bytes]) -> bool:
    if sys.platform == "win32":
        import msvcrt

        handle.seek(LOCKED_BYTE)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _note(program: str) -> bytes:
    return json.dumps(
        {
            "program": program,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M"),
        },
        ensure_ascii=False,
    ).encode("utf-8")


def _in_use(store_file: Path, handle: IO[bytes]) -> StoreInUse:
    handle.seek(0)
    try:
        note = json.loads(handle.read(LOCKED_BYTE).decode("utf-8").strip("\0 \n"))
        return StoreInUse(
            STORE_IN_USE,
            path=str(store_file),
            program=str(note["program"]),
            pid=int(note["pid"]),
            host=str(note["host"]),
            since=str(note["since"]),
        )
    except (ValueError, KeyError, TypeError, OSError):
        return StoreInUse(STORE_IN_USE_UNKNOWN, path=str(store_file))


class StoreLock:
    """The lock on one store file, held until `release()`."""

    def __init__(self, key: Path) -> None:
        self._key: Path | None = key

    @classmethod
    def acquire(cls, store_file: Path, program: str) -> StoreLock:
        """Take the store's lock (or share this process's), or raise StoreInUse naming its holder."""
        key = lock_path(store_file).resolve()
        with _held_guard:
            held = _held.get(key)
            if held is not None:
                held.count += 1
                return cls(key)
            handle = open(key, "a+b")  # noqa: SIM115 - held open for as long as the store is open
            try:
                if not _try_lock(handle):
                    raise _in_use(store_file, handle)
                handle.seek(0)
                handle.truncate()
                handle.write(_note(program))
                handle.flush()
            except BaseException:
                handle.close()
                raise
            _held[key] = _Held(handle, 1)
            return cls(key)

    def release(self) -> None:
        key, self._key = self._key, None
        if key is None:
            return
        with _held_guard:
            held = _held[key]
            held.count -= 1
            if held.count == 0:
                del _held[key]
                held.handle.close()  # closing drops the lock; the file stays (removing it would race a new holder)


def this_program() -> str:
    """How the lock's note names this program: MemberDesk.exe, memberdesk-cli.exe, main.py."""
    return Path(sys.argv[0]).name if sys.argv and sys.argv[0] not in ("", "-c") else "MemberDesk"
