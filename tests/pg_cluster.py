"""A throwaway PostgreSQL cluster on a unix socket that a test or a benchmark can stop and start at will (the suite's
own server, dev.py's `postgres_server`, must stay up for every other test). As root it runs as `postgres`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg.waiting import Wait

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dev import find_pg_bindir, is_root, pg_parent_dir

INITDB = ("-E", "UTF8", "--locale=C.UTF-8", "--no-sync")


class PgCluster:
    def __init__(
        self, port: int, settings: dict[str, str] | None = None, durable: bool = False, parent: str | None = None
    ) -> None:
        """`parent`: the folder the cluster goes in (default dev.pg_parent_dir(): RAM when there is room)."""
        bindir = find_pg_bindir()
        if bindir is None:
            raise RuntimeError("initdb/pg_ctl not found (apt package postgresql)")
        self.port = port
        self._as_user: list[str] = []
        self.workdir = Path(tempfile.mkdtemp(prefix="memberdesk-pgc-", dir=parent or pg_parent_dir()))
        if is_root():
            import pwd  # POSIX only

            entry = pwd.getpwnam("postgres")
            os.chown(self.workdir, entry.pw_uid, entry.pw_gid)
            self._as_user = ["runuser", "-u", "postgres", "--"]
        self.datadir = self.workdir / "data"
        self._pg_ctl = [*self._as_user, str(bindir / "pg_ctl"), "-D", str(self.datadir)]
        options = {"listen_addresses": "''", "autovacuum": "off"}
        if not durable:
            options.update(fsync="off", synchronous_commit="off", full_page_writes="off")
        options.update(settings or {})
        self._opts = f"-k {self.workdir} -p {port} " + " ".join(f"-c {k}={v}" for k, v in options.items())
        subprocess.run(
            [
                *self._as_user,
                str(bindir / "initdb"),
                "-D",
                str(self.datadir),
                "-U",
                "postgres",
                "--auth=trust",
                *INITDB,
            ],
            cwd=self.workdir,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@/postgres?host={self.workdir}&port={self.port}"

    def start(self) -> None:
        log = str(self.workdir / "server.log")
        subprocess.run([*self._pg_ctl, "-w", "-l", log, "-o", self._opts, "start"], check=True, cwd=self.workdir)

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            [*self._pg_ctl, "-m", mode, "-w", "stop"], check=True, cwd=self.workdir, stdout=subprocess.DEVNULL
        )

    def remove(self) -> None:
        subprocess.run([*self._pg_ctl, "-m", "immediate", "stop"], cwd=self.workdir, capture_output=True)
        shutil.rmtree(self.workdir, ignore_errors=True)


_trips = threading.local()


def count_round_trips() -> None:
    """From now on count, per thread, psycopg's waits for the server's answer (a wait that read; a pipeline,
    whose statements are sent together and answered together, once): the round trips
    (`round_trips`). Once per process; psycopg works as before."""
    if getattr(psycopg.Connection.wait, "counts_trips", False):
        return
    plain = psycopg.Connection.wait

    def counted(gen: Any) -> Any:
        waited = False
        try:
            state = next(gen)
            while True:
                waited = waited or bool(state & Wait.R)
                state = gen.send((yield state))
        except StopIteration as done:
            return done.value
        finally:
            _trips.count = getattr(_trips, "count", 0) + waited

    def wait(self: psycopg.Connection, gen: Any, *args: Any, **kwargs: Any) -> Any:
        if self._pipeline is not None:  # a pipeline's statements and their answers: one round trip (`pipeline`)
            return plain(self, gen, *args, **kwargs)
        return plain(self, counted(gen), *args, **kwargs)

    plain_pipeline = psycopg.Connection.pipeline

    @contextmanager
    def pipeline(self: psycopg.Connection) -> Iterator[Any]:
        with plain_pipeline(self) as sent:
            yield sent
        _trips.count = getattr(_trips, "count", 0) + 1

    wait.counts_trips = True  # type: ignore[attr-defined]
    psycopg.Connection.wait = wait  # type: ignore[method-assign,assignment]
    psycopg.Connection.pipeline = pipeline  # type: ignore[method-assign,assignment]


def round_trips() -> int:
    """Round trips this thread has made so far."""
    return int(getattr(_trips, "count", 0))
