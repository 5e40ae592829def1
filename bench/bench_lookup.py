#!/usr/bin/env python3
"""Member lookup at the counter on a 1M-member store (docs/ARCHITECTURE.md §7: p95 ≤ 2 ms through the service).

    python bench/bench_lookup.py [--data-dir DIR] [--queries N]

Queries are real ones drawn from the store (a seeded sample of its members): full phone, last 4 digits, card
number, name prefix (one and two characters), pinyin initials and full pinyin. Each goes through
`MemberService.lookup` as a cashier's counter would, and beside it, in the same run, raw sqlite3 runs the indexed
queries the service runs for that kind (same columns, same LIMIT, same order), so the difference is the service's
own cost. Both are timed warm: an untimed pass first reads the pages the queries touch into the OS cache (a 1M store
is ~10 GB, mostly sales; the members table and its indexes, ~0.6 GB, stay cached on a counter PC). Without
--data-dir the store of bench/make_big_store.py is used (made first if missing).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from make_big_store import SQLITE_NAME, ensure_big_store

from app.context import Store

TARGET_P95_MS = 2.0
LIMIT = 20
MAX_CODE_POINT = "\U0010ffff"

HIT = """SELECT m.id, m.member_no, m.name, m.phone, m.card_no, t.name, t.name_en, m.points_balance, m.last_visit_at
         FROM members m JOIN tiers t ON t.id = m.tier_id WHERE m.status != 'anonymised' AND """


def raw_queries(conn: sqlite3.Connection) -> dict[str, Callable[[str], list[tuple[object, ...]]]]:
    """What MemberService._lookup asks the database for each kind of query, as plain sqlite3."""

    def run(where: str, *params: object) -> list[tuple[object, ...]]:
        return conn.execute(HIT + where, params).fetchall()

    def prefix(column: str, value: str) -> list[tuple[object, ...]]:
        return run(
            f"m.{column} >= ? AND m.{column} < ? ORDER BY m.{column} LIMIT {LIMIT}", value, value + MAX_CODE_POINT
        )

    def pinyin(value: str) -> list[tuple[object, ...]]:
        rows = prefix("pinyin_initials", value)
        if len(rows) < LIMIT:
            rows += prefix("pinyin_full", value)
        return rows

    return {
        "phone": lambda q: run(f"m.phone = ? LIMIT {LIMIT}", q),
        "last4": lambda q: run(f"m.phone_last4 = ? ORDER BY m.last_visit_at DESC LIMIT {LIMIT}", q),
        "card": lambda q: run("m.card_no = ? LIMIT 2", q),
        "name1": lambda q: prefix("name", q),
        "name2": lambda q: prefix("name", q),
        "initials": pinyin,
        "pinyin": pinyin,
    }


def sample_queries(conn: sqlite3.Connection, count: int, seed: int) -> dict[str, list[str]]:
    """Queries made from randomly chosen real members."""
    top = int(conn.execute("SELECT MAX(id) FROM members").fetchone()[0])
    rng = random.Random(seed)
    queries: dict[str, list[str]] = {k: [] for k in ("phone", "last4", "card", "name1", "name2", "initials", "pinyin")}
    while len(queries["phone"]) < count:
        row = conn.execute(
            "SELECT phone, card_no, name, pinyin_initials, pinyin_full FROM members WHERE id = ?",
            (rng.randint(1, top),),
        ).fetchone()
        if row is None or not row[0] or not row[2]:
            continue
        phone, card, name, initials, full = row
        queries["phone"].append(phone)
        queries["last4"].append(phone[-4:])
        queries["card"].append(card)
        queries["name1"].append(name[:1])
        queries["name2"].append(name[:2])
        queries["initials"].append(initials)
        queries["pinyin"].append(full)
    return queries


def percentiles(samples_ms: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return statistics.median(samples_ms), cuts[94], cuts[98]


def timed(run: Callable[[str], object], queries: list[str], warmup: int) -> list[float]:
    for q in queries[:warmup]:
        run(q)
    samples: list[float] = []
    for q in queries:
        start = time.perf_counter_ns()
        run(q)
        samples.append((time.perf_counter_ns() - start) / 1e6)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--queries", type=int, default=2000, help="queries of each kind")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    data_dir = args.data_dir or ensure_big_store()

    store = Store.open(data_dir)
    members = store.services(store.operator("cashier1")).members
    raw = sqlite3.connect(data_dir / SQLITE_NAME)
    raw.execute("PRAGMA query_only = ON")
    queries = sample_queries(raw, args.queries, args.seed)
    count = members.count()
    baseline = raw_queries(raw)

    print(f"member lookup, {count:,} members, {args.queries:,} queries of each kind, p50/p95/p99 in ms")
    print(f"{'query':<10} {'service p50':>11} {'p95':>7} {'p99':>7}   {'raw p50':>8} {'p95':>7} {'p99':>7}   target")
    missed = []
    for kind, qs in queries.items():
        for q in qs:  # the pages these queries touch, into the OS cache, so neither side pays the first read
            baseline[kind](q)
        service_ms = percentiles(timed(members.lookup, qs, warmup=100))
        raw_ms = percentiles(timed(baseline[kind], qs, warmup=100))
        ok = service_ms[1] <= TARGET_P95_MS
        if not ok:
            missed.append(kind)
        print(
            f"{kind:<10} {service_ms[0]:>11.3f} {service_ms[1]:>7.3f} {service_ms[2]:>7.3f}   "
            f"{raw_ms[0]:>8.3f} {raw_ms[1]:>7.3f} {raw_ms[2]:>7.3f}   "
            f"{'ok' if ok else 'MISSED'} (p95 ≤ {TARGET_P95_MS} ms)"
        )
    raw.close()
    store.close()
    if missed:
        print(f"missed the p95 target: {', '.join(missed)}")


if __name__ == "__main__":
    main()
