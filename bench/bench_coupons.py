#!/usr/bin/env python3
"""Issuing and validating coupons (DESIGN.md §7: issue 100,000 coupons ≤ 3 s; validate a scanned code p95 ≤ 2 ms on
a store with 1M coupons).

    python bench/bench_coupons.py [--issue 100000] [--store 1000000] [--lookups 2000]

In a fresh SQLite store (WAL, synchronous=FULL) in a temporary folder:
  issue     CouponService.issue of --issue bearer coupons, one transaction (codes drawn from `secrets`, a ledger row
            and an idempotency key each); baseline: raw sqlite3 executemany of the same number of coupon and ledger
            rows with codes made beforehand (the floor for the same writes).
  validate  the store is filled to --store coupons (more issues), then CouponService.check — every rule a scan at the
            counter runs, through the service and a fresh session — on random codes spaced like scans, p50/p95/p99;
            baseline: raw sqlite3 selecting the coupon and its campaign by code.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from app.context import Store
from app.coupons.campaigns import CampaignDraft
from app.coupons.codes import new_codes
from app.coupons.service import ordered_uuids
from db.engine import SQLITE_FILENAME
from db.enums import CampaignTarget, CouponKind
from db.models import Coupon

ISSUE_TARGET_S = 3.0
VALIDATE_TARGET_MS = 2.0
BATCH = 100_000


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def raw_issue(path: Path, count: int, campaign_id: int) -> tuple[float, float]:
    codes = sorted(new_codes(count))  # as the service inserts them: in index order
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(" ")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    start, cpu = time.perf_counter(), time.process_time()
    conn.execute("BEGIN IMMEDIATE")
    first = conn.execute("SELECT COALESCE(MAX(id), 0) FROM coupons").fetchone()[0] + 1
    conn.executemany(
        "INSERT INTO coupons (client_uuid, code, campaign_id, member_id, status, issued_at, print_count, branch_id)"
        " VALUES (?, ?, ?, NULL, 'issued', ?, 0, 1)",
        [(client_uuid, code, campaign_id, now) for client_uuid, code in zip(ordered_uuids(count), codes, strict=True)],
    )
    conn.executemany(
        "INSERT INTO coupon_ledger (idempotency_key, coupon_id, action, branch_id, created_at)"
        " VALUES (?, ?, 'issue', 1, ?)",
        [(f"raw:{first + i}", first + i, now) for i in range(count)],
    )
    conn.execute("COMMIT")
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    conn.close()
    return seconds, cpu_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issue", type=int, default=BATCH)
    parser.add_argument("--store", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=2000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(Path(folder))
        services = store.services(store.operator("owner"))
        now = store.clock.now()
        draft = CampaignDraft(
            "BENCH",
            "满100减20",
            CouponKind.AMOUNT_OFF,
            now - dt.timedelta(days=1),
            now + dt.timedelta(days=30),
            value_fen=2_000,
            min_spend_fen=10_000,
            target=CampaignTarget.BEARER,
        )
        campaign = services.coupons.create_campaign(draft).campaign_id
        services.coupons.activate(campaign)

        start, cpu = time.perf_counter(), time.process_time()
        issued = services.coupons.issue(campaign, str(uuid.uuid4()), count=args.issue).issued
        service_s, service_cpu = time.perf_counter() - start, time.process_time() - cpu
        raw_s, raw_cpu = raw_issue(Path(folder) / SQLITE_FILENAME, args.issue, campaign)
        print(f"issue {issued:,} coupons in one transaction (target ≤ {ISSUE_TARGET_S} s)")
        print(
            f"  CouponService.issue  {service_s:.2f} s (CPU {service_cpu:.2f} s)   raw sqlite3 executemany"
            f" {raw_s:.2f} s (CPU {raw_cpu:.2f} s)   ratio {service_s / raw_s:.2f}"
        )

        total = 2 * args.issue
        fill_start = time.perf_counter()
        while total < args.store:
            step = min(BATCH, args.store - total)
            total += services.coupons.issue(campaign, str(uuid.uuid4()), count=step).issued
        print(f"store filled to {total:,} coupons in {time.perf_counter() - fill_start:.1f} s")

        with store.db.session() as session:
            ids = random.Random(7).sample(range(1, total + 1), args.lookups)
            codes = list(session.scalars(select(Coupon.code).where(Coupon.id.in_(ids))))
        service_ms: list[float] = []
        for code in codes:
            start = time.perf_counter()
            services.coupons.check(code, None, [(15_000, None)])
            service_ms.append((time.perf_counter() - start) * 1000)
            time.sleep(0.002)  # scans are spaced; the page cache stays warm as at a counter
        conn = sqlite3.connect(Path(folder) / SQLITE_FILENAME)
        raw_ms: list[float] = []
        for code in codes:
            start = time.perf_counter()
            conn.execute(
                "SELECT c.id, c.status, c.member_id, k.status, k.valid_from, k.valid_until, k.min_spend_fen"
                " FROM coupons c JOIN coupon_campaigns k ON k.id = c.campaign_id WHERE c.code = ?",
                (code,),
            ).fetchone()
            raw_ms.append((time.perf_counter() - start) * 1000)
        conn.close()
        print(
            f"validate a scanned code, {total:,} coupons in the store, {len(codes):,} scans"
            f" (target p95 ≤ {VALIDATE_TARGET_MS} ms)"
        )
        for name, values in (("CouponService.check", service_ms), ("raw sqlite3 select", raw_ms)):
            print(
                f"  {name:20s} p50 {statistics.median(values):.3f} ms  p95 {percentile(values, 95):.3f} ms"
                f"  p99 {percentile(values, 99):.3f} ms"
            )
        store.close()
    print(
        f"(2-core machine shared with other work while measuring, load average {os.getloadavg()[0]:.1f}: wall times"
        " are upper bounds; CPU time is this process's own, the figure a quiet machine approaches)"
    )


if __name__ == "__main__":
    main()
