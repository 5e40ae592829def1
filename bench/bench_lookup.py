#!/usr/bin/env python3
"""Member lookup at the counter on a 1M-member store, the way a cashier lives it (issue 14; targets: p95 ≤ 2 ms
spaced and warm, ≤ 5 ms cold, p99 ≤ 10 ms, for every kind).

    python bench/bench_lookup.py [--data-dir DIR] [--queries N] [--modes back-to-back spaced cold]

Queries are real ones drawn from the store (a seeded sample of its members): full phone, last 4 digits, card
number, name prefix (one and two characters), pinyin initials and full pinyin. Each goes through
`MemberService.lookup` as the counter's lane runs it (on SQLite: the thread's own plain connection,
`Database.plain_reads`). The baseline, in the same run, is raw sqlite3 running *the same statements with the same
parameters*: the statements the service passed to its plain connection for that query (`PlainReads.rows`) are
recorded once, untimed, and replayed, so the difference is the service's own cost, never a different plan or a
different number of statements.

Modes (each prints p50/p95/p99/max per kind, service and raw, the mean CPU time of one lookup, the pages SQLite
read from the OS per lookup and the KiB the kernel read from the disk per lookup — /proc/self/io `syscr` and
`read_bytes`):
- back-to-back: one query after the other, CPU caches hot (what the old figure measured; kept for comparison);
- spaced: a pause of 50–500 ms (uniform, seeded) before every query, as a counter types and waits; warm: each
  kind's statements are run once untimed first. A kind whose lookups still read from the disk is marked NOT WARM,
  not judged: the page cache was emptied under the run (this VM's `idle-reclaim` drops it every few minutes when
  the machine is idle, `dmesg` says when), which is the cold mode's case;
- cold: before every query the store's files are evicted from the OS page cache (posix_fadvise DONTNEED) AND the
  page cache of SQLite's connection is emptied (`PRAGMA shrink_memory`), as after a long idle spell, a busy machine
  or another counter's write (which makes SQLite drop its cache at the next read). The mode proves it: the file's
  page-cache residency (`fincore`) before and after the first eviction, the disk KiB every lookup read, and this
  disk's own latency (random 4 KiB O_DIRECT reads of the store file, before and after the lookups).
Service and raw alternate query by query, so both see the same machine. Without --data-dir the store of
bench/make_big_store.py is used (made first if missing). At the end of a cold mode the file is read back into the
page cache (read through once) if it was cached before, so the next user of the store does not start cold.
"""

from __future__ import annotations

import argparse
import mmap
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from make_big_store import SQLITE_NAME, ensure_big_store

from app.context import Store
from app.members.service import MemberService
from db.engine import counter_connection
from db.plain import PlainReads

TARGETS_MS = {"back-to-back": (2.0, 10.0), "spaced": (2.0, 10.0), "cold": (5.0, 10.0)}
"""Mode: (p95, p99) targets."""
KINDS = ("phone", "last4", "card", "name1", "name2", "initials", "pinyin")
Statement = tuple[str, dict[str, Any]]


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


def record(members: MemberService, reads: PlainReads, query: str) -> list[Statement]:
    """The statements `members.lookup(query)` runs on `reads`, this thread's plain connection (untimed, watched)."""
    seen: list[Statement] = []
    run = reads.rows

    def watched(sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        seen.append((sql, dict(params or {})))
        return run(sql, params)

    reads.rows = watched  # type: ignore[method-assign]
    try:
        members.lookup(query)
    finally:
        del reads.rows
    return seen


def evict(files: Sequence[Path]) -> None:
    for path in files:
        if path.exists():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def read_back(path: Path) -> None:
    """Read the whole file once, so its pages are cached again (POSIX_FADV_WILLNEED reads only a window)."""
    with open(path, "rb", buffering=0) as f:
        while f.read(16 * 2**20):
            pass


def resident(path: Path) -> tuple[str, float]:
    """`fincore`'s line for the file and the share of its pages in the page cache."""
    out = subprocess.run(
        ["fincore", "--bytes", "--noheadings", "--output", "RES,SIZE", str(path)],
        text=True,
        capture_output=True,
        check=True,
    ).stdout.split()
    res, size = int(out[0]), int(out[1])
    return f"{res / 2**20:,.1f} MiB of {size / 2**20:,.0f} MiB in the page cache", res / max(size, 1)


def io_counts() -> tuple[int, int]:
    """Read calls this process made (`syscr`) and bytes it had read from the disk (`read_bytes`)."""
    with open("/proc/self/io", "rb") as f:
        fields = dict(line.split(b": ") for line in f.read().splitlines())
    return int(fields[b"syscr"]), int(fields[b"read_bytes"])


def disk_latency(path: Path, reads: int, rng: random.Random) -> str:
    """Random 4 KiB reads of `path` that bypass the page cache (O_DIRECT): what one page SQLite misses costs here."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    buffer = mmap.mmap(-1, 4096)  # page-aligned, as O_DIRECT wants
    pages = os.fstat(fd).st_size // 4096
    took: list[float] = []
    try:
        for _ in range(reads):
            offset = rng.randrange(pages) * 4096
            start = time.perf_counter_ns()
            os.preadv(fd, [buffer], offset)
            took.append((time.perf_counter_ns() - start) / 1e6)
    finally:
        os.close(fd)
        buffer.close()
    p50, p95, p99, top = figures(took)
    return f"disk: {reads} random 4 KiB reads (O_DIRECT) p50 {p50:.3f} p95 {p95:.3f} p99 {p99:.3f} max {top:.3f} ms"


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
    raw = sqlite3.connect(data_dir / SQLITE_NAME, isolation_level=None)
    raw.execute("PRAGMA query_only = ON")
    queries = sample_queries(raw, args.queries, args.seed)
    rng = random.Random(args.seed)
    looked = io_counts()[0]
    io_cost = io_counts()[0] - looked  # the read calls of one look at /proc/self/io, taken off every lookup's
    with counter_connection():
        count = members.count()
        # The statements of every query, recorded once (untimed) for the raw side; this also reads their pages.
        reads = store.db.plain_reads()  # the connection the service reads on (this thread's)
        assert reads is not None, "an SQLite file"
        statements = {kind: [record(members, reads, q) for q in qs] for kind, qs in queries.items()}
        per_query = {kind: statistics.mean(len(s) for s in runs) for kind, runs in statements.items()}

        def raw_run(batch: list[Statement]) -> None:
            for sql, params in batch:
                raw.execute(sql, params).fetchall()

        def empty_caches() -> None:
            evict(files)
            reads.connection.execute("PRAGMA shrink_memory")
            raw.execute("PRAGMA shrink_memory")

        print(f"member lookup, {count:,} members, {args.queries:,} queries of each kind per mode; ms")
        print("service = MemberService.lookup on the counter's connection; raw = sqlite3 replaying its statements;")
        print("CPU = the mean CPU time of one lookup (ms), which the machine's load does not inflate; pages = read")
        print("calls SQLite made per lookup (pages its own cache missed); disk = KiB read from the disk per lookup")
        missed: list[str] = []
        for mode in args.modes:
            p95_target, p99_target = TARGETS_MS[mode]
            print(f"\n[{mode}] targets: p95 ≤ {p95_target} ms, p99 ≤ {p99_target} ms (service)")
            cached_before = 0.0
            if mode == "cold":
                line, cached_before = resident(files[0])
                print(f"before eviction: {line}")
                empty_caches()
                print(f"after eviction:  {resident(files[0])[0]}")
                print(disk_latency(files[0], 200, rng))
            print(
                f"{'kind':<9} {'stmts':>5}  {'p50':>6} {'p95':>6} {'p99':>6} {'max':>7} {'CPU':>6} {'pages':>5} "
                f"{'disk':>5}   {'raw p50':>7} {'p95':>6} {'p99':>6} {'max':>7} {'CPU':>6} {'pages':>5} {'disk':>5}"
            )
            for kind, qs in queries.items():
                if mode != "cold":
                    raw_run([statement for batch in statements[kind] for statement in batch])  # warm, untimed
                wall_ms: dict[str, list[float]] = {"service": [], "raw": []}
                cpu_ms = {"service": 0.0, "raw": 0.0}  # this thread's CPU time, summed over each side's lookups
                pages = {"service": 0, "raw": 0}
                disk = {"service": 0, "raw": 0}
                for q, batch in zip(qs, statements[kind], strict=True):
                    for side, run in (("service", lambda q=q: members.lookup(q)), ("raw", lambda b=batch: raw_run(b))):
                        if mode == "spaced":
                            time.sleep(rng.uniform(0.05, 0.5))
                        elif mode == "cold":
                            empty_caches()
                        calls, read = io_counts()
                        cpu = time.thread_time_ns()
                        start = time.perf_counter_ns()
                        run()
                        wall_ms[side].append((time.perf_counter_ns() - start) / 1e6)
                        cpu_ms[side] += (time.thread_time_ns() - cpu) / 1e6
                        calls_after, read_after = io_counts()
                        pages[side] += calls_after - calls - io_cost
                        disk[side] += read_after - read
                s, r = figures(wall_ms["service"]), figures(wall_ms["raw"])
                n = len(qs)
                ok = s[1] <= p95_target and s[2] <= p99_target
                not_warm = mode != "cold" and disk["service"] + disk["raw"] > 0
                if not ok and not not_warm:
                    missed.append(f"{mode}/{kind}")
                verdict = "NOT WARM" if not_warm else "ok" if ok else "MISSED"
                print(
                    f"{kind:<9} {per_query[kind]:>5.1f}  {s[0]:>6.2f} {s[1]:>6.2f} {s[2]:>6.2f} {s[3]:>7.2f} "
                    f"{cpu_ms['service'] / n:>6.2f} {pages['service'] / n:>5.1f} {disk['service'] / n / 1024:>5.0f}   "
                    f"{r[0]:>7.2f} {r[1]:>6.2f} {r[2]:>6.2f} {r[3]:>7.2f} "
                    f"{cpu_ms['raw'] / n:>6.2f} {pages['raw'] / n:>5.1f} {disk['raw'] / n / 1024:>5.0f}   "
                    f"{verdict}"
                )
            if mode == "cold":
                print(disk_latency(files[0], 200, rng))
                if cached_before > 0.5:
                    start = time.perf_counter()
                    read_back(files[0])
                    print(
                        f"read back into the page cache ({time.perf_counter() - start:.1f} s): {resident(files[0])[0]}"
                    )
    raw.close()
    store.close()
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} (2 cores)")
    if missed:
        print(f"missed: {', '.join(missed)}")


if __name__ == "__main__":
    main()
