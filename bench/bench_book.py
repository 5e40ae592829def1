#!/usr/bin/env python3
"""Issue 7's figures (lookup, purchase, import, demo) as deterministic counts, this tree against a baseline commit
in the same run: Python function calls, SQL statements run by the driver and commits (cProfile), the demo's CPU
instructions (callgrind, --instructions), and the CPU time of the profiled runs beside them (indicative only: the
machine is shared and cProfile's own cost grows with the calls; the counts do not move).

    python bench/bench_book.py [--baseline 8c6320b] [--members 2000] [--purchases 300] [--instructions]

The baseline (default 8c6320b, the commit before issue 7's refactor) is taken out of git into a temporary folder
(`git archive`); each figure runs in a child process of this interpreter whose working directory is the tree
measured, so both trees run on the same packages. The workloads use only what both trees offer:
  lookup    a 1,000-member demo, then 7 kinds of lookup text (phone, last 4, card, 2-character name, pinyin
            initials, full pinyin) through MemberService.lookup, 3 rounds of up to 100 each;
  purchase  a 1,000-member, 90-day demo, 20 purchases to warm up, then --purchases through
            LoyaltyService.record_purchase (seeded members and amounts; every fifth uses points when it can);
  import    `main.py members import` of 20,000 rows in a fresh store (the whole command, start-up included);
  demo      `main.py demo --members N --seed 7` (730 days), the whole command; with --instructions also under
            callgrind (minutes). Its points ledger is dumped and hashed: two trees that book the same points print
            the same digest (the baseline's ledger reasons differ from today's, "purchase" → "sale {id}", so
            compare digests with --baseline main when checking a change to the demo keeps its output).
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import hashlib
import json
import os
import pstats
import random
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent
FIGURES = ("lookup", "purchase", "import", "demo")
DRIVER_CALLS = ("execute", "executemany")


# ---- the child: runs one figure in the tree it was started in ------------------------------------------------------
def profile_counts(source: cProfile.Profile | str) -> dict[str, int]:
    """Function calls, driver statements and commits of a profiled run (a profiler, or a file it saved)."""
    stats: dict[Any, Any] = pstats.Stats(source).stats  # type: ignore[attr-defined]
    calls = statements = commits = 0
    for (filename, _line, name), (_cc, ncalls, *_rest) in stats.items():
        calls += ncalls
        if filename == "~" and "sqlite3." in name:
            if any(f"method '{call}' of 'sqlite3." in name for call in DRIVER_CALLS):
                statements += ncalls
            elif "method 'commit' of 'sqlite3.Connection'" in name:
                commits += ncalls
    return {"calls": calls, "statements": statements, "commits": commits}


def open_store(folder: Path, members: int, days: int) -> Any:
    from app.context import Store
    from app.demo import DemoOptions, generate_demo

    store = Store.open(folder)
    generate_demo(store, DemoOptions(members=members, days=days, seed=5), lambda *_: True)
    return store


def child_lookup(out: Path, _args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import text

    from app.members.pinyin import pinyin_keys

    store = open_store(out / "store", 1000, 30)
    members = store.services(store.operator("cashier1")).members
    owner = store.services(store.operator("owner")).members
    rows = store.db.read(lambda s: list(s.execute(text("SELECT id, name, card_no FROM members ORDER BY id"))))
    sample = random.Random(1).sample(rows, 100)
    phones = [owner.form_for(mid).phone for mid, _n, _c in sample]
    keys = [pinyin_keys(name) for _m, name, _c in sample if name]
    texts = [
        *[p for p in phones if p],
        *[p[-4:] for p in phones if p],
        *[card for _m, _n, card in sample if card],
        *[name[:2] for _m, name, _c in sample if name],
        *[k[0] for k in keys],
        *[k[1] for k in keys],
    ]
    for query in texts[:20]:
        members.lookup(query)
    profiler = cProfile.Profile()
    cpu = time.process_time()
    profiler.enable()
    for _round in range(3):
        for query in texts:
            members.lookup(query)
    profiler.disable()
    return {"cpu_s": time.process_time() - cpu, "operations": 3 * len(texts), **profile_counts(profiler)}


def child_purchase(out: Path, args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import text

    from app.loyalty.service import PurchaseRequest  # both trees have it there

    store = open_store(out / "store", 1000, 90)
    loyalty = store.services(store.operator("cashier1")).loyalty
    ids = store.db.read(lambda s: [r[0] for r in s.execute(text("SELECT id FROM members ORDER BY id"))])
    rng = random.Random(2)
    balances: dict[int, int] = {}

    def purchase(n: int) -> None:
        member = rng.choice(ids)
        total = rng.randint(500, 50_000)
        use = 0
        if n % 5 == 0 and balances.get(member, 0) >= 100:
            use = min(balances[member], total // 2) // 100 * 100  # whole yuan, under any cap of half or more
        result = loyalty.record_purchase(PurchaseRequest(member, total, f"bench:{n}:{uuid.uuid4()}", use))
        balances[member] = result.balance_after

    for n in range(20):
        purchase(n)
    profiler = cProfile.Profile()
    cpu = time.process_time()
    profiler.enable()
    for n in range(20, 20 + args.purchases):
        purchase(n)
    profiler.disable()
    return {"cpu_s": time.process_time() - cpu, "operations": args.purchases, **profile_counts(profiler)}


def run_command(command: list[str], profiled: Path | None) -> tuple[float, dict[str, int]]:
    """Run `main.py …` in this tree; its CPU time, and its counts when `profiled` names a profile file."""
    prefix = [sys.executable, *(["-m", "cProfile", "-o", str(profiled)] if profiled else []), "main.py"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([*prefix, *command], capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return cpu, profile_counts(str(profiled)) if profiled else {}


def child_import(out: Path, _args: argparse.Namespace) -> dict[str, Any]:
    rows = out / "import.csv"
    with rows.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["phone", "name"])
        for i in range(20_000):
            writer.writerow([f"139{i:08d}", "王" + "伟芳娜秀英敏静丽强磊"[i % 10] + "军洋勇艳杰"[i % 5]])
    cpu, counts = run_command(["--data-dir", str(out / "store"), "members", "import", str(rows)], out / "import.prof")
    return {"cpu_s": cpu, "operations": 20_000, **counts}


BOOK_DUMP = (
    "SELECT m.member_no, l.source, l.delta, l.balance_after, substr(l.created_at, 1, 10), l.sale_id"
    " FROM points_ledger l JOIN members m ON m.id = l.member_id ORDER BY l.id",
    "SELECT id, member_id, ledger_id, substr(earned_at, 1, 10), substr(expires_at, 1, 10), points, remaining"
    " FROM points_lots ORDER BY id",
    "SELECT ledger_id, lot_id, points FROM points_lot_uses ORDER BY id",
    "SELECT member_no, points_balance, lifetime_spend_fen, visit_count, tier_id, substr(tier_review_at, 1, 10)"
    " FROM members ORDER BY id",
    "SELECT id, member_id, substr(sold_at, 1, 10), total_fen, points_used, points_value_fen, paid_fen,"
    " points_earned FROM sales ORDER BY id",
)
"""The book's rows, in columns both trees have. The demo's moments follow the clock it ran at (its last purchases
are made at the counter, now), so they are compared to the day."""


def ledger_digest(store: Path) -> str:
    """A digest of the points ledger, lots, lot uses, members' balances and tiers, and sales, in id order."""
    conn = sqlite3.connect(next(store.glob("*.sqlite3")))
    digest = hashlib.sha256()
    for query in BOOK_DUMP:
        for row in conn.execute(query):
            digest.update(repr(row).encode())
    conn.close()
    return digest.hexdigest()[:16]


def child_demo(out: Path, args: argparse.Namespace) -> dict[str, Any]:
    command = ["--data-dir", str(out / "store"), "demo", "--members", str(args.members), "--seed", "7"]
    cpu, counts = run_command(command, out / "demo.prof")
    result: dict[str, Any] = {"cpu_s": cpu, "operations": args.members, **counts}
    result["ledger"] = ledger_digest(out / "store")
    if args.instructions:
        store = out / "store-cg"
        log = out / "callgrind.log"
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--dump-instr=no",
                f"--callgrind-out-file={out / 'callgrind.out'}",
                f"--log-file={log}",
                sys.executable,
                "main.py",
                *["--data-dir", str(store), "demo", "--members", str(args.members), "--seed", "7"],
            ],
            capture_output=True,
            check=True,
        )
        found = re.search(r"Collected : (\d+)", log.read_text())
        result["instructions"] = int(found.group(1)) if found else None
        result["ledger_cg"] = ledger_digest(store)
    return result


CHILDREN = {"lookup": child_lookup, "purchase": child_purchase, "import": child_import, "demo": child_demo}


# ---- the parent --------------------------------------------------------------------------------------------------
def baseline_tree(rev: str, into: Path) -> Path:
    tree = into / f"baseline-{rev}"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(HERE), "archive", rev], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def measure(tree: Path, figure: str, args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    out = scratch / f"{tree.name}-{figure}"
    out.mkdir()
    command = [sys.executable, str(Path(__file__).resolve()), "--child", figure, "--out", str(out)]
    command += ["--members", str(args.members), "--purchases", str(args.purchases)]
    command += ["--instructions"] if args.instructions else []
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(tree)}
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{figure} in {tree} failed:\n{done.stdout}{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def change(base: float, now: float) -> str:
    return f"{100 * (now - base) / base:+.1f} %" if base else "—"


def report(figure: str, base: dict[str, Any], now: dict[str, Any], rev: str) -> None:
    per = base["operations"]
    unit = {"lookup": "lookup", "purchase": "purchase", "import": "row", "demo": "member"}[figure]
    print(f"{figure} ({per:,} {unit}s; per {unit} in brackets)")
    for key in ("calls", "statements", "commits", "instructions", "cpu_s"):
        if base.get(key) is None or now.get(key) is None:
            continue
        b, n = base[key], now[key]
        if key == "cpu_s":
            label, whole, each = "CPU (noisy)", "{:,.2f} s", "{:,.3f} ms"
            b_each, n_each = 1000 * b / per, 1000 * n / per
        else:
            label, whole, each = {"calls": "Python calls"}.get(key, key), "{:,}", "{:,.1f}"
            b_each, n_each = b / per, n / per
        print(
            f"  {label:<14} {rev:>8}: {whole.format(b):>16} ({each.format(b_each)})   this tree: "
            f"{whole.format(n):>16} ({each.format(n_each)})   {change(b, n)}"
        )
    for key in ("ledger", "ledger_cg"):
        if key in base:
            same = "same" if base[key] == now[key] else "DIFFERENT"
            print(f"  book rows digest ({key}) {base[key]} / {now[key]}: {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default="8c6320b", help="commit to compare with (default: before issue 7)")
    parser.add_argument("--members", type=int, default=2000, help="demo members (default 2000)")
    parser.add_argument("--purchases", type=int, default=300)
    parser.add_argument("--only", choices=FIGURES, action="append", help="run this figure (repeatable)")
    parser.add_argument("--instructions", action="store_true", help="also count the demo's instructions (slow)")
    parser.add_argument("--child", choices=FIGURES, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, os.getcwd())
        print(json.dumps(CHILDREN[args.child](args.out, args)))
        return
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"
    print(f"issue 7 figures: this tree ({HERE}) against {args.baseline}, load {load}")
    with tempfile.TemporaryDirectory(prefix="memberdesk-book-") as tmp:
        scratch = Path(tmp)
        base_tree = baseline_tree(args.baseline, scratch)
        for figure in args.only or FIGURES:
            base = measure(base_tree, figure, args, scratch)
            now = measure(HERE, figure, args, scratch)
            report(figure, base, now, args.baseline)
            sys.stdout.flush()


if __name__ == "__main__":
    main()
