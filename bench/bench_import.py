"""Import N members from a CSV through `members import` (validation, pinyin, ledger, batches), next to raw sqlite3
inserting the same rows with no checks, in the same run. docs/ARCHITECTURE.md §7: 1M members ≤ 40 s, with progress.

    python bench/bench_import.py [--members 1000000] [--one-process]
"""

from __future__ import annotations

import argparse
import csv
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.context import Store
from app.importing import members as members_import
from app.importing.members import MemberImporter

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖"
    "田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢单解仇朴区查盖"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红建国志文斌辉鹏宇浩然子轩梓涵一诺欣怡雨"


def make_csv(path: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    phones = rng.sample(range(10**8), n)
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["member_no", "phone", "name", "gender", "birthday", "points", "tier", "joined_at", "tags"])
        for i, p in enumerate(phones):
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
            out.writerow(
                [
                    f"OLD{i:07d}",
                    f"13{rng.randint(0, 9)}{p:08d}",
                    name,
                    rng.choice("男女"),
                    f"{rng.randint(1950, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                    rng.choice((0, 0, 0, rng.randint(1, 5000))),
                    "",
                    "2024-05-01",
                    "",
                ]
            )


def raw_baseline(csv_path: Path, db_path: Path) -> float:
    """The same rows into the same members table with sqlite3 executemany: no validation, no pinyin, no ledger."""
    start = time.perf_counter()
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    with csv_path.open(encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        rows = [(i, r[0], r[1], r[1][-4:], r[2]) for i, r in enumerate(reader, start=10**7)]
    with conn:
        conn.executemany(
            "INSERT INTO members (id, client_uuid, member_no, phone, phone_last4, name, gender, tier_id, "
            "home_branch_id, status, points_balance, lifetime_spend_fen, visit_count, marketing_consent, "
            "referral_rewarded, joined_at, updated_at) "
            "VALUES (?1, 'raw-' || ?1, 'RAW' || ?2, '9' || substr(?3, 2), ?4, "
            "?5, 'unknown', 1, 1, 'frozen', 0, 0, 0, 0, 0, '2024-05-01', '2024-05-01')",
            rows,
        )
    conn.close()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument(
        "--one-process", action="store_true", help="validate in the importing process, as on Windows (no fork)"
    )
    args = parser.parse_args()
    if args.one_process:
        members_import.fork_helps = lambda: False
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv_path = folder / "members.csv"
        make_csv(csv_path, args.members)
        store = Store.open(folder / "store")
        importer = MemberImporter(store.db, store.operator("owner"), store.clock, store.cipher)
        ticks: list[int] = []
        start = time.perf_counter()
        report = importer.run(csv_path, progress=lambda done, _t, _w: ticks.append(done) is None)
        took = time.perf_counter() - start
        assert store.db.sqlite_path is not None
        store.close()
        raw = raw_baseline(csv_path, folder / "store" / "memberdesk.sqlite3")
        print(
            f"members import, {args.members:,} rows: {took:.1f} s ({args.members / took:,.0f} rows/s), "
            f"{report.summary()}, {len(ticks)} progress updates; target ≤ 40 s for 1M"
        )
        print(f"baseline raw sqlite3 executemany of the same rows (no checks, no pinyin): {raw:.1f} s")


if __name__ == "__main__":
    main()
