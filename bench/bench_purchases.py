#!/usr/bin/env python3
"""Recording purchases with points (docs/ARCHITECTURE.md §7: sale + ledger + balance + tier on SQLite WAL +
synchronous=FULL, ≥ 200 per second and ≤ 3× raw sqlite3 doing the same writes).

    python bench/bench_purchases.py [--members 10000] [--purchases 2000] [--profile]

A fresh demo store (`generate_demo`, 90 days of history) is made in a temporary folder and copied, so both runs
start from the same file. Then, one purchase per transaction, on random members (a fifth of them paying part with
points when they have some):
  service  LoyaltyService.record_purchase, as the counter calls it;
  raw      sqlite3 on the copy, same pragmas, doing the same reads and writes by hand: lock the member row (BEGIN
           IMMEDIATE), insert the sale, the redemption ledger row with its lot uses and lot updates, the earning
           ledger row and its lot, sum the 12-month spend for the tier, update the member, write the audit entry
           (digest of the rows' values, chain head read and moved, rows stamped).
--profile prints where the service's time goes (cProfile, top functions by cumulative time).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import hashlib
import pstats
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.context import Store
from app.demo import DemoOptions, generate_demo
from app.loyalty.pricing import eligible_fen, points_for
from app.loyalty.rules import RedeemPolicy
from app.loyalty.service import PurchaseRequest
from app.settings import read_settings
from app.trust.chain import RowDigest, canonical
from db.engine import SQLITE_FILENAME
from db.models import Member

TARGET_PER_S = 200.0
TARGET_RATIO = 3.0
POINTS_SHARE = 0.2


@dataclass(frozen=True)
class Planned:
    member_id: int
    total_fen: int
    wants_points: bool


def plan(members: int, count: int, seed: int) -> list[Planned]:
    rng = random.Random(seed)
    return [
        Planned(rng.randint(1, members), max(500, int(rng.lognormvariate(8.7, 0.8))), rng.random() < POINTS_SHARE)
        for _ in range(count)
    ]


def points_to_use(redeem: RedeemPolicy, total: int, balance: int, wants: bool) -> int:
    """Whole yuan of points, as much as the cap allows, when the member wants to and has at least ¥1 worth."""
    if not wants:
        return 0
    most = redeem.max_points(total, balance)
    return most - most % redeem.points_per_yuan


@dataclass(frozen=True)
class Timing:
    wall_s: float
    cpu_s: float
    """This process's CPU time: on a busy machine the wall time is mostly waiting for the disk's fsync."""


def run_service(data_dir: Path, purchases: list[Planned], profile: bool) -> Timing:
    store = Store.open(data_dir)
    loyalty = store.services(store.operator("cashier1")).loyalty
    redeem = RedeemPolicy.from_settings(store.db.read(read_settings))
    balances = store.db.read(lambda s: {m: b for m, b in s.execute(select(Member.id, Member.points_balance))})
    profiler = cProfile.Profile() if profile else None
    start, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    for n, p in enumerate(purchases):
        use = points_to_use(redeem, p.total_fen, balances[p.member_id], p.wants_points)
        result = loyalty.record_purchase(
            PurchaseRequest(
                member_id=p.member_id, total_fen=p.total_fen, idempotency_key=f"bench:{n}", points_to_use=use
            )
        )
        balances[p.member_id] = result.balance_after
    if profiler:
        profiler.disable()
    elapsed = Timing(time.perf_counter() - start, time.process_time() - cpu)
    store.close()
    if profiler:
        print("\nwhere the service's time goes (cumulative):")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
    return elapsed


def stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def run_raw(path: Path, purchases: list[Planned], settings: dict[str, int]) -> Timing:
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = FULL", "foreign_keys = ON", "busy_timeout = 15000"):
        conn.execute(f"PRAGMA {pragma}")
    redeem = RedeemPolicy(settings["points_per_yuan"], settings["cap_pct"])
    fen_per_point = settings["fen_per_point"]
    start, cpu = time.perf_counter(), time.process_time()
    for n, p in enumerate(purchases):
        now = dt.datetime.now(dt.UTC)
        at = stamp(now)
        conn.execute("BEGIN IMMEDIATE")
        balance, tier_pct, spend = conn.execute(
            "SELECT m.points_balance, t.earn_multiplier_pct, m.lifetime_spend_fen FROM members m "
            "JOIN tiers t ON t.id = m.tier_id WHERE m.id = ?",
            (p.member_id,),
        ).fetchone()
        used = points_to_use(redeem, p.total_fen, balance, p.wants_points)
        value = redeem.value_fen(used)
        paid = p.total_fen - value
        earned = points_for(eligible_fen(p.total_fen, 0, paid), fen_per_point, tier_pct, 100)
        key = f"raw:{n}"
        sale_id = conn.execute(
            "INSERT INTO sales (client_uuid, idempotency_key, kind, member_id, branch_id, staff_id, receipt_no,"
            " sold_at, total_fen, points_used, points_value_fen, coupon_discount_fen, paid_fen, points_earned,"
            " created_at)"
            " VALUES (?, ?, 'sale', ?, 1, 2, NULL, ?, ?, ?, ?, 0, ?, ?, ?)",
            (str(uuid.uuid4()), key, p.member_id, at, p.total_fen, used, value, paid, earned, at),
        ).lastrowid
        sale = [sale_id, "sale", p.member_id, 1, None, now, p.total_fen, used, value, 0, paid, earned, None]
        entries: list[list[object]] = []
        if used:
            ledger_id = ledger(conn, p.member_id, "redemption", -used, balance - used, f"{key}:redeem", sale_id, at)
            entries.append([ledger_id, f"{key}:redeem", p.member_id, 1, "redemption", -used, balance - used, sale_id])
            need = used
            for lot_id, remaining in conn.execute(
                "SELECT id, remaining FROM points_lots WHERE member_id = ? AND remaining > 0 "
                "ORDER BY expires_at IS NULL, expires_at, earned_at, id",
                (p.member_id,),
            ).fetchall():
                take = min(need, remaining)
                conn.execute("UPDATE points_lots SET remaining = remaining - ? WHERE id = ?", (take, lot_id))
                conn.execute(
                    "INSERT INTO points_lot_uses (ledger_id, lot_id, points) VALUES (?, ?, ?)",
                    (ledger_id, lot_id, take),
                )
                need -= take
                if not need:
                    break
            balance -= used
        if earned:
            ledger_id = ledger(conn, p.member_id, "sale", earned, balance + earned, f"{key}:earn", sale_id, at)
            entries.append([ledger_id, f"{key}:earn", p.member_id, 1, "sale", earned, balance + earned, sale_id])
            conn.execute(
                "INSERT INTO points_lots (member_id, ledger_id, earned_at, expires_at, points, remaining)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (p.member_id, ledger_id, at, stamp(now + dt.timedelta(days=730)), earned, earned),
            )
            balance += earned
        conn.execute(
            "SELECT COALESCE(SUM(total_fen), 0) FROM sales WHERE member_id = ? AND sold_at > ?",
            (p.member_id, stamp(now - dt.timedelta(days=365))),
        ).fetchone()
        conn.execute(
            "UPDATE members SET points_balance = ?, lifetime_spend_fen = ?, visit_count = visit_count + 1,"
            " last_visit_at = ?, updated_at = ? WHERE id = ?",
            (balance, spend + p.total_fen, at, at, p.member_id),
        )
        audit(conn, p.member_id, sale, entries, at)
        conn.execute("COMMIT")
    elapsed = Timing(time.perf_counter() - start, time.process_time() - cpu)
    conn.close()
    return elapsed


def audit(conn: sqlite3.Connection, member_id: int, sale: list[object], entries: list[list[object]], at: str) -> None:
    """The purchase's audit entry as the service writes it: digests of the rows' values, the branch chain's head
    read and moved, the entry inserted, the rows stamped with its id."""
    rows = {"sales": RowDigest("sales").add_all([sale]).summary()}
    if entries:
        rows["points_ledger"] = RowDigest("points_ledger").add_all(entries).summary()
    details = {"member_id": member_id, "rows": rows}
    seq, prev = conn.execute("SELECT seq, row_hash FROM audit_heads WHERE branch_id = 1").fetchone()
    sale_id = sale[0]
    row_hash = hashlib.sha256(canonical([prev, seq + 1, 1, 2, at, "purchase", "sale", str(sale_id), details]).encode())
    audit_id = conn.execute(
        "INSERT INTO audit_log (created_at, staff_id, branch_id, action, entity, entity_id, details, seq, prev_hash,"
        " row_hash) VALUES (?, 2, 1, 'purchase', 'sale', ?, ?, ?, ?, ?)",
        (at, str(sale_id), canonical(details), seq + 1, prev, row_hash.hexdigest()),
    ).lastrowid
    conn.execute("UPDATE audit_heads SET seq = ?, row_hash = ? WHERE branch_id = 1", (seq + 1, row_hash.hexdigest()))
    conn.execute("UPDATE sales SET audit_id = ? WHERE id = ?", (audit_id, sale_id))
    conn.executemany("UPDATE points_ledger SET audit_id = ? WHERE id = ?", [(audit_id, e[0]) for e in entries])


def ledger(
    conn: sqlite3.Connection, member_id: int, source: str, delta: int, after: int, key: str, sale_id: int, at: str
) -> int:
    cursor = conn.execute(
        "INSERT INTO points_ledger (client_uuid, idempotency_key, member_id, branch_id, staff_id, source, delta,"
        " balance_after, reason, sale_id, created_at) VALUES (?, ?, ?, 1, 2, ?, ?, ?, ?, ?, ?)",
        (str(uuid.uuid4()), key, member_id, source, delta, after, f"sale {sale_id}", sale_id, at),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--purchases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="memberdesk-bench-") as tmp:
        service_dir, raw_dir = Path(tmp) / "service", Path(tmp) / "raw"
        store = Store.open(service_dir)
        generate_demo(store, DemoOptions(members=args.members, days=90, seed=args.seed), lambda *_: True)
        settings = store.db.read(read_settings)
        store.close()
        raw_dir.mkdir()
        shutil.copyfile(service_dir / SQLITE_FILENAME, raw_dir / SQLITE_FILENAME)

        purchases = plan(args.members, args.purchases, args.seed)
        raw = run_raw(
            raw_dir / SQLITE_FILENAME,
            purchases,
            {
                "points_per_yuan": settings.points_redeem_points_per_yuan,
                "cap_pct": settings.points_redeem_cap_pct,
                "fen_per_point": settings.points_fen_per_point,
            },
        )
        service = run_service(service_dir, purchases, args.profile)

    count = len(purchases)
    service_rate, raw_rate = count / service.wall_s, count / raw.wall_s
    ratio = service.wall_s / raw.wall_s
    print(f"record a purchase with points, SQLite WAL + synchronous=FULL, {args.members:,} members")
    for label, rate, timing in (
        ("service (LoyaltyService.record_purchase)", service_rate, service),
        ("raw sqlite3, same work", raw_rate, raw),
    ):
        print(
            f"  {label:<42} {rate:7.1f} purchases/s  ({1000 / rate:.2f} ms each, "
            f"{1000 * timing.cpu_s / count:.2f} ms CPU)"
        )
    print(
        f"  service / raw: {ratio:.2f}×   targets: ≥ {TARGET_PER_S:.0f}/s "
        f"{'ok' if service_rate >= TARGET_PER_S else 'MISSED'}, ≤ {TARGET_RATIO:.0f}× raw "
        f"{'ok' if ratio <= TARGET_RATIO else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
