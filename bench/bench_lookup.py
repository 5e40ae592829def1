#!/usr/bin/env python3
"""Member lookup at the counter on a 1M-member store, the way a cashier lives it (issue 14; targets: p95 ≤ 2 ms
spaced and warm, ≤ 5 ms cold, p99 ≤ 10 ms, for every kind).

    python bench/bench_lookup.py [--data-dir DIR] [--queries N] [--modes back-to-back spaced cold]

Queries are real ones drawn from the store (a seeded sample of its members): full phone, last 4 digits, card
number, name prefix (one and two characters), pinyin initials and full pinyin. Each goes through
`MemberService.lookup` on the counter's own connection (db.engine.counter_connection), as the counter's lane runs
it. The baseline, in the same run, is raw sqlite3 running *the same statements with the same parameters*: the
statements the service sent for that query are recorded (SQLAlchemy's cursor events) and replayed, so the
difference is the service's own cost, never a different plan or a different number of statements.

Modes (each prints p50/p95/p99/max per kind, service and raw):
- back-to-back: one query after the other, CPU caches hot (what the old figure measured; kept for comparison);
- spaced: a pause of 50–500 ms (uniform, seeded) before every query, as a counter types and waits;
- cold: before every query the store's files are evicted from the OS page cache (posix_fadvise DONTNEED), as after
  a long idle spell or a busy machine (SQLite's own 2 MB cache of the connection is kept, as it is at a counter).
Service and raw alternate query by query, so both see the same machine. Without --data-dir the store of
bench/make_big_store.py is used (made first if missing).
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from make_big_store import SQLITE_NAME, ensure_big_store
from sqlalchemy import event

from app.context import Store
from db.engine import counter_connection

TARGETS_MS = {"back-to-back": (2.0, 10.0), "spaced": (2.0, 10.0), "cold": (5.0, 10.0)}
"""Mode: (p95, p99) targets."""
KINDS = ("phone", "last4", "card", "name1", "name2", "initials", "pinyin")
Statement = tuple[str, Sequence[Any]]


def sample_queries(conn: sqlite3.Connection, count: int, seed: int) -> dict[str, list[str]]:
    """Queries made from randomly chosen real members."""
    top = int(conn.execute("SELECT MAX(id) FROM members").fetchone()[0])
    rng = random.Random(seed)
    queries: dict[str, list[str]] = {kind: [] for kind in KINDS}
    while len(queries["phone"]) < count:
        row = conn.execute(
            "SELECT phone, card_no, name, pinyin_initials, pinyin_full FROM members WHERE id = ?",
            (rng.randint(1, top),),
        ).fetchone()
        if row is None or not row[0] or not row[2] or not row[1]:
            continue
        phone, card, name, initials, full = row
        for kind, text in zip(KINDS, (phone, phone[-4:], card, name[:1], name[:2], initials, full), strict=True):
            queries[kind].append(text)
    return queries


class Recorder:
    """The statements the service sends while `recording`."""

    def __init__(self, store: Store) -> None:
        self.recording = False
        self.statements: list[Statement] = []
        event.listen(store.db.counter_engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if self.recording:
            self.statements.append((statement, tuple(parameters or ())))

    def record(self, run: Callable[[], object]) -> list[Statement]:
        self.statements, self.recording = [], True
        try:
            run()
        finally:
            self.recording = False
        return self.statements


def evict(files: Sequence[Path]) -> None:
    for path in files:
        if path.exists():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def figures(samples_ms: list[float]) -> tuple[float, float, float, float]:
    cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return statistics.median(samples_ms), cuts[94], cuts[98], max(samples_ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--queries", type=int, default=200, help="queries of each kind in each mode")
    parser.add_argument("--modes", nargs="+", default=list(TARGETS_MS), choices=list(TARGETS_MS))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    data_dir = args.data_dir or ensure_big_store()
    files = [data_dir / SQLITE_NAME, data_dir / f"{SQLITE_NAME}-wal"]

    store = Store.open(data_dir)
    members = store.services(store.operator("cashier1")).members
    recorder = Recorder(store)
    raw = sqlite3.connect(data_dir / SQLITE_NAME, isolation_level=None)
    raw.execute("PRAGMA query_only = ON")
    queries = sample_queries(raw, args.queries, args.seed)
    rng = random.Random(args.seed)
    with counter_connection():
        count = members.count()
        # The statements of every query, recorded once (untimed) for the raw side.
        statements = {
            kind: [recorder.record(lambda q=q: members.lookup(q)) for q in qs] for kind, qs in queries.items()
        }
        per_query = {
            kind: statistics.mean(sum(1 for sql, _ in s if sql.startswith("SELECT")) for s in runs)
            for kind, runs in statements.items()
        }

        def raw_run(batch: list[Statement]) -> None:
            """The service's read transaction too: its BEGIN, its queries, and the rollback that closes it."""
            for sql, params in batch:
                raw.execute(sql, params).fetchall()
            if raw.in_transaction:
                raw.execute("ROLLBACK")

        print(f"member lookup, {count:,} members, {args.queries:,} queries of each kind per mode; ms")
        print("service = MemberService.lookup on the counter's connection; raw = sqlite3 replaying its statements;")
        print("CPU = the mean CPU time of one lookup (ms), which the machine's load does not inflate")
        missed: list[str] = []
        for mode in args.modes:
            p95_target, p99_target = TARGETS_MS[mode]
            print(f"\n[{mode}] targets: p95 ≤ {p95_target} ms, p99 ≤ {p99_target} ms (service)")
            print(
                f"{'kind':<9} {'stmts':>5}  {'p50':>6} {'p95':>6} {'p99':>6} {'max':>7} {'CPU':>6}   "
                f"{'raw p50':>7} {'p95':>6} {'p99':>6} {'max':>7} {'CPU':>6}"
            )
            for kind, qs in queries.items():
                wall_ms: dict[str, list[float]] = {"service": [], "raw": []}
                cpu_ms = {"service": 0.0, "raw": 0.0}  # this thread's CPU time, summed over each side's lookups
                for q, batch in zip(qs, statements[kind], strict=True):
                    for side, run in (("service", lambda q=q: members.lookup(q)), ("raw", lambda b=batch: raw_run(b))):
                        if mode == "spaced":
                            time.sleep(rng.uniform(0.05, 0.5))
                        elif mode == "cold":
                            evict(files)
                        cpu = time.thread_time_ns()
                        start = time.perf_counter_ns()
                        run()
                        wall_ms[side].append((time.perf_counter_ns() - start) / 1e6)
                        cpu_ms[side] += (time.thread_time_ns() - cpu) / 1e6
                s, r = figures(wall_ms["service"]), figures(wall_ms["raw"])
                s_cpu, r_cpu = cpu_ms["service"] / len(qs), cpu_ms["raw"] / len(qs)
                ok = s[1] <= p95_target and s[2] <= p99_target
                if not ok:
                    missed.append(f"{mode}/{kind}")
                print(
                    f"{kind:<9} {per_query[kind]:>5.1f}  {s[0]:>6.2f} {s[1]:>6.2f} {s[2]:>6.2f} {s[3]:>7.2f} "
                    f"{s_cpu:>6.2f}   {r[0]:>7.2f} {r[1]:>6.2f} {r[2]:>6.2f} {r[3]:>7.2f} {r_cpu:>6.2f}   "
                    f"{'ok' if ok else 'MISSED'}"
                )
    raw.close()
    store.close()
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} (2 cores)")
    if missed:
        print(f"missed: {', '.join(missed)}")


if __name__ == "__main__":
    main()
