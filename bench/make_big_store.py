#!/usr/bin/env python3
"""Build (once) the 1M-member demo store the benchmarks measure against, or reuse the one already there.

    python bench/make_big_store.py [DIR] [--members N] [--seed S]

DIR defaults to $MEMBERDESK_BENCH_STORE, else <temp>/memberdesk-bench-1m. The store is made with the real command,
`main.py demo --members N --data-dir DIR` (about 9 purchases a member over two years, so ~9M sales at 1M), with its
progress on the console; it is reused when it already holds at least N members. Other benchmarks call
`ensure_big_store()`.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEMBERS = 1_000_000
SEED = 20261123
SQLITE_NAME = "memberdesk.sqlite3"


def default_dir() -> Path:
    return Path(os.environ.get("MEMBERDESK_BENCH_STORE") or Path(tempfile.gettempdir()) / "memberdesk-bench-1m")


def member_count(data_dir: Path) -> int:
    path = data_dir / SQLITE_NAME
    if not path.exists():
        return 0
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM members").fetchone()[0])
    except sqlite3.Error:
        return 0
    finally:
        conn.close()


def ensure_big_store(data_dir: Path | None = None, members: int = MEMBERS, seed: int = SEED) -> Path:
    """The data folder of a store with at least `members` members, made now if it is missing or smaller."""
    data_dir = data_dir or default_dir()
    have = member_count(data_dir)
    if have >= members:
        print(f"reusing {data_dir} ({have:,} members)", file=sys.stderr)
        return data_dir
    if have:
        raise SystemExit(f"{data_dir} holds {have:,} members, fewer than {members:,}: remove it or pick another folder")
    data_dir.mkdir(parents=True, exist_ok=True)
    print(f"making a {members:,}-member demo store in {data_dir} (a few minutes)…", file=sys.stderr)
    started = time.perf_counter()
    command = [sys.executable, str(ROOT / "main.py"), "demo", "--members", str(members), "--seed", str(seed)]
    subprocess.run([*command, "--data-dir", str(data_dir)], cwd=ROOT, check=True)
    print(f"made in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return data_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", nargs="?", type=Path, default=None)
    parser.add_argument("--members", type=int, default=MEMBERS)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    print(ensure_big_store(args.data_dir, args.members, args.seed))


if __name__ == "__main__":
    main()
