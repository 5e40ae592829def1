"""Import N members from a CSV through `members import` (validation, pinyin, ledger, batches), next to the
like-for-like floor in the same run. docs/ARCHITECTURE.md §7: 1M realistic members in one process ≤ 40 s and ≤ 3× the
floor.

The like-for-like floor: raw sqlite3 executemany of everything the file gives (members with every given column, tag
rows, opening points ledger rows and lots) into the *empty* tables of a fresh store, with their secondary indexes
dropped before and built after, as the import does. The members-only floor of the earlier sessions (five of the
file's columns into members) is printed beside it. See `floor`.
`--realistic`: 80 % of the rows carry a card number, 30 % an ID number, 40 % tags (as a real member file does).

    python bench/bench_import.py [--members 1000000] [--realistic] [--one-process] [--profile FILE]

Wall time, CPU time (this process and its children: the forked validator) and the load average are printed for the
import and for the floor, so a run on a busy machine still says what the work cost.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import os
import random
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.context import Store
from app.importing import members as members_import
from app.importing.members import MemberImporter
from app.members.validation import id_check_char, make_card_no

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖"
    "田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢单解仇朴区查盖"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红建国志文斌辉鹏宇浩然子轩梓涵一诺欣怡雨"


TAGS = ("老客户", "VIP", "宝妈", "学生", "企业客户", "团购", "生日会员", "线上")
HEADER = [
    "member_no",
    "phone",
    "name",
    "gender",
    "birthday",
    "points",
    "tier",
    "joined_at",
    "tags",
    "card_no",
    "id_number",
]


def id_number(rng: random.Random, birthday: str) -> str:
    first17 = f"{rng.choice((110101, 310104, 440305, 510107))}{birthday.replace('-', '')}{rng.randint(0, 999):03d}"
    return first17 + id_check_char(first17)


def make_csv(path: Path, n: int, seed: int = 7, realistic: bool = False) -> None:
    rng = random.Random(seed)
    phones = rng.sample(range(10**8), n)
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for i, p in enumerate(phones):
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
            birthday = f"{rng.randint(1950, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            card = make_card_no("66", i + 1) if realistic and rng.random() < 0.8 else ""
            ident = id_number(rng, birthday) if realistic and rng.random() < 0.3 else ""
            tags = "、".join(rng.sample(TAGS, rng.randint(1, 3))) if realistic and rng.random() < 0.4 else ""
            out.writerow(
                [
                    f"OLD{i:07d}",
                    f"13{rng.randint(0, 9)}{p:08d}",
                    name,
                    rng.choice("男女"),
                    birthday,
                    rng.choice((0, 0, 0, rng.randint(1, 5000))),
                    "",
                    "2024-05-01",
                    tags,
                    card,
                    ident,
                ]
            )


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children."""
    here = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return here.ru_utime + here.ru_stime + children.ru_utime + children.ru_stime


def floor(csv_path: Path, folder: Path, *, full: bool) -> tuple[float, float]:
    """The file's rows into the empty tables of a fresh store with raw sqlite3 executemany, one transaction, the
    tables' secondary indexes dropped first and built again after (as the import does). No validation, no pinyin,
    no encryption, no audit: what the disk and SQLite cost at least. Wall and CPU seconds, both counted from after
    the fresh store is made (as the import's are).

    full=False (the floor of the sessions before): member number, phone, name, card and birthday into members.
    full=True (like for like): everything the file gives, as given: members with every column (the ID number in
    clear text where the import writes it sealed, the gender's 男/女 mapped to the stored word), a tag row per
    distinct tag and a member_tags row per tag of a member, and for each member with points an opening ledger
    row and its lot."""
    Store.open(folder).close()
    start, cpu = time.perf_counter(), cpu_seconds()
    conn = sqlite3.connect(folder / "memberdesk.sqlite3", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(f"PRAGMA cache_size=-{256 * 1024}")  # the import's bulk loader's cache
    tables = ("members", "points_ledger", "points_lots", "member_tags") if full else ("members",)
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({', '.join('?' * len(tables))})",
        tables,
    ).fetchall()
    with csv_path.open(encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        rows = list(reader)
    conn.execute("BEGIN IMMEDIATE")
    for name, _sql in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    if full:
        _everything_raw(conn, rows)
    else:
        conn.executemany(
            "INSERT INTO members (id, client_uuid, member_no, phone, phone_last4, name, card_no, birthday, gender, "
            "tier_id, home_branch_id, status, points_balance, lifetime_spend_fen, visit_count, marketing_consent, "
            "referral_rewarded, joined_at, updated_at) "
            "VALUES (?1, 'raw-' || ?1, ?2, ?3, ?4, ?5, ?6, ?7, 'unknown', 1, 1, 'active', 0, 0, 0, 0, 0, "
            "'2024-05-01', '2024-05-01')",
            [(i, r[0], r[1], r[1][-4:], r[2], r[9] or None, r[4]) for i, r in enumerate(rows, start=1)],
        )
    for _name, sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - start, cpu_seconds() - cpu


GENDERS = {"男": "male", "女": "female"}


def _everything_raw(conn: sqlite3.Connection, rows: list[list[str]]) -> None:
    """Members with every column the file gives, their tags and their opening points, as given."""
    conn.executemany(
        "INSERT INTO members (id, client_uuid, member_no, phone, phone_last4, name, gender, birthday, points_balance, "
        "joined_at, card_no, id_number_enc, tier_id, home_branch_id, status, lifetime_spend_fen, visit_count, "
        "marketing_consent, referral_rewarded, updated_at) "
        "VALUES (?1, 'raw-' || ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, nullif(?10, ''), nullif(?11, ''), "
        "1, 1, 'active', 0, 0, 0, 0, '2024-05-01')",
        [
            (i, r[0], r[1], r[1][-4:], r[2], GENDERS.get(r[3], "unknown"), r[4], int(r[5]), r[7], r[9], r[10])
            for i, r in enumerate(rows, start=1)
        ],
    )
    member_tags = [(i, name) for i, r in enumerate(rows, start=1) if r[8] for name in r[8].split("、")]
    tag_ids = {name: at for at, name in enumerate(sorted({name for _i, name in member_tags}), start=1)}
    conn.executemany("INSERT INTO tags (id, name) VALUES (?, ?)", [(at, name) for name, at in tag_ids.items()])
    conn.executemany(
        "INSERT INTO member_tags (member_id, tag_id) VALUES (?, ?)", [(i, tag_ids[name]) for i, name in member_tags]
    )
    opening = [(i, int(r[5])) for i, r in enumerate(rows, start=1) if r[5] != "0"]
    conn.executemany(
        "INSERT INTO points_ledger (id, client_uuid, idempotency_key, member_id, branch_id, source, delta, "
        "balance_after, reason, created_at) "
        "VALUES (?1, 'raw-' || ?1, 'import:' || ?2, ?2, 1, 'import', ?3, ?3, 'opening', '2024-05-01')",
        [(at, i, points) for at, (i, points) in enumerate(opening, start=1)],
    )
    conn.executemany(
        "INSERT INTO points_lots (member_id, ledger_id, earned_at, points, remaining) "
        "VALUES (?, ?, '2024-05-01', ?, ?)",
        [(i, at, points, points) for at, (i, points) in enumerate(opening, start=1)],
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument(
        "--one-process", action="store_true", help="validate in the importing process, as on Windows (no fork)"
    )
    parser.add_argument("--realistic", action="store_true", help="card numbers, ID numbers and tags as well")
    parser.add_argument("--profile", type=Path, help="write the import's cProfile statistics here")
    args = parser.parse_args()
    if args.one_process:
        members_import.fork_helps = lambda: False
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv_path = folder / "members.csv"
        make_csv(csv_path, args.members, realistic=args.realistic)
        store = Store.open(folder / "store")
        importer = MemberImporter(store.db, store.operator("owner"), store.clock, store.cipher)
        ticks: list[int] = []
        profile = cProfile.Profile(time.process_time) if args.profile else None  # CPU time: the machine may be busy
        load = os.getloadavg()[0]
        start, cpu = time.perf_counter(), cpu_seconds()
        if profile is not None:
            profile.enable()
        report = importer.run(csv_path, progress=lambda done, _t, _w: ticks.append(done) is None)
        if profile is not None:
            profile.disable()
            profile.dump_stats(args.profile)
        took, cpu = time.perf_counter() - start, cpu_seconds() - cpu
        store.close()
        raw, raw_cpu = floor(csv_path, folder / "floor", full=True)
        shutil.rmtree(folder / "floor")
        members_only, members_only_cpu = floor(csv_path, folder / "floor-members", full=False)
        kind = "realistic (cards 80 %, ID numbers 30 %, tags 40 %)" if args.realistic else "plain"
        where = "one process (as on Windows)" if args.one_process else "validation in a forked process"
        print(
            f"members import, {args.members:,} {kind} rows, {where}: {took:.1f} s wall, {cpu:.1f} s CPU "
            f"({args.members / took:,.0f} rows/s), {report.summary()}, {len(ticks)} progress updates; "
            "target ≤ 40 s for 1M"
        )
        print(
            f"like-for-like floor (everything the file gives written raw: members with every given column, tags, "
            f"opening points; empty tables, indexes dropped and rebuilt, executemany): {raw:.1f} s wall, "
            f"{raw_cpu:.1f} s CPU; import = {took / raw:.1f}× the floor by wall time, {cpu / raw_cpu:.1f}× by CPU "
            "(target ≤ 3×)"
        )
        print(
            "members-only floor (number, phone, name, card, birthday into members, as in earlier sessions): "
            f"{members_only:.1f} s wall, "
            f"{members_only_cpu:.1f} s CPU; import = {took / members_only:.1f}× by wall time, "
            f"{cpu / members_only_cpu:.1f}× by CPU"
        )
        print(f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after (2 cores)")


if __name__ == "__main__":
    main()
