"""The segment refresh on the big demo store, next to DuckDB computing the same RFM from the same sales already
loaded in DuckDB, in the same run. DESIGN.md §7: RFM/pyramid/lifecycle ≤ DuckDB; BG/NBD + Gamma-Gamma fit and
scoring of 1M members ≤ 20 s; peak memory ≤ 1 GB, off the counter's interpreter.

    python bench/bench_segments.py [DIR] [--members 1000000]      # needs the bench extra: pip install -e .[bench]

The refresh is asked for from a child process of its own (as `main.py segments` would); the refresh itself runs
in a process it forks (as from the GUI), and the asking process reports the phases and both peak resident
memories; DuckDB runs here afterwards on a table of the live sales with their local day already
worked out (so DuckDB is not charged for time zones or for matching returns).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.make_big_store import MEMBERS, SQLITE_NAME, ensure_big_store  # noqa: E402

LOCAL_DAY = "CAST(julianday(s.sold_at, '+480 minutes') - 2440587.5 AS INTEGER)"


def rfm_part(phases: dict[str, tuple[float, float]], fit: tuple[float, float]) -> tuple[float, float]:
    """The RFM/pyramid/lifecycle part of a refresh (read the histories + compute, the fit left out): wall, CPU."""
    read, computed = phases["read"], phases["compute"]
    return read[0] + computed[0] - fit[0], read[1] + computed[1] - fit[1]


def refresh_in_this_process(data_dir: Path, repeats: int) -> dict[str, object]:
    """`repeats` refreshes in a row, as the GUI asks for them (each in a process forked for it); the figures are the
    fastest one's by its RFM/pyramid/lifecycle part, as DuckDB's are its best of 3."""
    from app.context import Store
    from app.insights.refresh import parameters

    started = time.perf_counter()
    store = Store.open(data_dir)
    opened = time.perf_counter()
    runs = []
    for _ in range(repeats):
        marks: list[tuple[str, float]] = []

        def progress(done: int, total: int, what: str, marks: list[tuple[str, float]] = marks) -> bool:
            marks.append((what, time.perf_counter()))
            return True

        report = store.services(store.operator("owner")).segments.refresh(progress=progress, per_member=False)
        fit = (report.fit.seconds, report.fit.cpu_seconds)
        runs.append((rfm_part(report.phases, fit), marks, report))
    store.close()
    (rfm, marks, report) = min(runs, key=lambda run: run[0][0])
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    phases = {marks[i][0]: round(marks[i + 1][1] - marks[i][1], 2) for i in range(len(marks) - 1)}
    return {
        "open_store_s": round(opened - started, 2),
        "rfm_part_each_run_wall_cpu_s": [[round(v, 2) for v in run[0]] for run in runs],
        "rfm_part_best_wall_cpu_s": [round(v, 2) for v in rfm],
        "phases_s": phases,
        "work_phases_wall_cpu_s": {name: [round(v, 2) for v in both] for name, both in report.phases.items()},
        "fit_and_scoring_s": round(report.fit.seconds, 2),
        "fit_and_scoring_cpu_s": round(report.fit.cpu_seconds, 2),
        "refresh_total_s": round(marks[-1][1] - marks[0][1], 2),
        "refresh_children_cpu_s": round(used.ru_utime + used.ru_stime, 2),
        "members": report.members,
        "model": report.fit.model,
        "parameters": {name: round(value, 4) for name, value in parameters(report.fit).items()},
        "as_of": report.as_of.isoformat(),
        "counts": report.counts,
        "peak_rss_mb_asking_process": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "peak_rss_mb_refresh_child": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024,
    }


def raw_floor(data_dir: Path) -> dict[str, float]:
    """Plain sqlite3 doing the refresh's own I/O and nothing else: every member's history row read as Python rows
    (fetchmany, 200,000 a call), and the stored results written again (executemany, 50,000 rows a call) into a
    temporary table of the same shape, rolled back."""
    con = sqlite3.connect(data_dir / SQLITE_NAME)
    begin = time.perf_counter()
    cursor = con.execute("SELECT member_id, head, months FROM member_histories")
    months = 0
    while chunk := cursor.fetchmany(200_000):
        months += len(chunk)
    read = time.perf_counter() - begin
    con.execute("CREATE TEMP TABLE results_copy AS SELECT * FROM member_segments WHERE 0")
    cursor = con.execute("SELECT * FROM member_segments")
    written = 0.0
    results = 0
    while chunk := cursor.fetchmany(50_000):
        begin = time.perf_counter()
        con.executemany(f"INSERT INTO results_copy VALUES ({', '.join('?' * len(chunk[0]))})", chunk)
        written += time.perf_counter() - begin
        results += len(chunk)
    con.rollback()
    con.close()
    return {
        "read_history_rows_s": round(read, 2),
        "history_rows": float(months),
        "write_result_rows_s": round(written, 2),
        "result_rows": float(results),
    }


def duckdb_rfm(data_dir: Path, as_of: dt.date) -> dict[str, float]:
    import duckdb

    path = Path(tempfile.mkdtemp()) / "live_sales.csv"
    started = time.perf_counter()
    source = sqlite3.connect(data_dir / SQLITE_NAME)
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["member_id", "day", "total_fen"])
        rows = source.execute(
            f"""SELECT s.member_id, {LOCAL_DAY}, s.total_fen FROM sales s
                WHERE s.kind = 'sale' AND s.member_id IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM sales r WHERE r.original_sale_id = s.id)"""
        )
        while chunk := rows.fetchmany(100_000):
            out.writerows(chunk)
    source.close()
    con = duckdb.connect()
    con.execute(f"CREATE TABLE sales AS SELECT * FROM read_csv('{path}')")
    count = con.execute("SELECT COUNT(*) FROM sales").fetchone()
    loaded = time.perf_counter()
    today = (as_of - dt.date(1970, 1, 1)).days
    months = as_of.year * 12 + as_of.month - 1 - 11  # the as-of month and the 11 before it, as the refresh
    window_start = (dt.date(months // 12, months % 12 + 1, 1) - dt.date(1970, 1, 1)).days
    query = f"""
        WITH per AS (
          SELECT member_id,
                 {today} - MAX(day) AS recency,
                 COUNT(DISTINCT day) FILTER (WHERE day >= {window_start}) AS frequency,
                 COALESCE(SUM(total_fen) FILTER (WHERE day >= {window_start}), 0) AS monetary
          FROM sales WHERE day <= {today} GROUP BY member_id)
        SELECT member_id, recency, frequency, monetary,
               NTILE(5) OVER (ORDER BY recency DESC) AS r,
               NTILE(5) OVER (ORDER BY frequency) AS f,
               NTILE(5) OVER (ORDER BY monetary) AS m
        FROM per"""
    threads = int(con.execute("SELECT current_setting('threads')").fetchone()[0])  # type: ignore[index]
    figures: dict[str, float] = {
        "load_s": round(loaded - started, 1),
        "sales": float(count[0] if count else 0),
        "threads": float(threads),
    }
    for label in ("rfm", "rfm_one_thread"):
        if label == "rfm_one_thread":
            con.execute("SET threads = 1")
        timings = []
        cpu = []
        for _ in range(3):
            begin, begin_cpu = time.perf_counter(), time.process_time()
            result = con.execute(query).fetchnumpy()
            timings.append(time.perf_counter() - begin)
            cpu.append(time.process_time() - begin_cpu)
        figures["members"] = float(len(result["member_id"]))
        figures[f"{label}_best_s"] = round(min(timings), 3)
        figures[f"{label}_best_cpu_s"] = round(min(cpu), 3)
    con.close()
    path.unlink()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", nargs="?", type=Path, default=None)
    parser.add_argument("--members", type=int, default=MEMBERS)
    parser.add_argument(
        "--repeats", type=int, default=3, help="refreshes in a row; ours is the fastest, as DuckDB's is its best of 3"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(refresh_in_this_process(args.data_dir, args.repeats)))
        return
    data_dir = ensure_big_store(args.data_dir, args.members)
    print(f"load average at the start: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    child = subprocess.run(
        [sys.executable, __file__, str(data_dir), "--child", "--repeats", str(args.repeats)],
        check=True,
        capture_output=True,
        text=True,
    )
    ours = json.loads(child.stdout.strip().splitlines()[-1])
    print("segment refresh (separate process):", json.dumps(ours, indent=1, ensure_ascii=False))
    duck = duckdb_rfm(data_dir, dt.date.fromisoformat(str(ours["as_of"])))
    print("DuckDB, same RFM on the live sales already loaded:", json.dumps(duck, indent=1))
    raw = raw_floor(data_dir)
    print("raw sqlite3, the refresh's reads and writes alone:", json.dumps(raw, indent=1))
    work = ours["work_phases_wall_cpu_s"]
    assert isinstance(work, dict)
    fit = (float(str(ours["fit_and_scoring_s"])), float(str(ours["fit_and_scoring_cpu_s"])))
    read, computed = work["read"], work["compute"]
    rfm = rfm_part(work, fit)
    stored = work.get("store", [0.0, 0.0])
    print(
        f"\nRFM/pyramid/lifecycle (read histories + compute, fit left out): {rfm[0]:.2f} s wall, {rfm[1]:.2f} s CPU"
        f"  vs DuckDB's RFM {duck['rfm_best_s']:.2f} s wall, {duck['rfm_best_cpu_s']:.2f} s CPU"
        f" ({duck['threads']:.0f} threads; one thread: {duck['rfm_one_thread_best_s']:.2f} s wall,"
        f" {duck['rfm_one_thread_best_cpu_s']:.2f} s CPU)"
        f"\n  read {read[0]:.2f} s wall / {read[1]:.2f} s CPU (each slice's per-buyer figures made on threads while"
        f" SQLite reads the next); compute {computed[0] - fit[0]:.2f} / {computed[1] - fit[1]:.2f} s"
        f"\n  (ours: the fastest of {args.repeats} refreshes in a row, each as the GUI runs it, in a process forked"
        f" for it, reading the store's history rows (each run: {ours['rfm_part_each_run_wall_cpu_s']} s wall, CPU);"
        f" DuckDB: best of 3 on a table already in its memory)"
        f"\nstoring {ours['members']:,} result rows: {stored[0]:.2f} s wall, {stored[1]:.2f} s CPU"
        f"\nBG/NBD + Gamma-Gamma fit and scoring: {fit[0]:.2f} s wall, {fit[1]:.2f} s CPU"
        f" for {ours['members']:,} members ({ours['model']}: {ours['parameters']})"
        f"\nwhole refresh (the fastest run) as the asking process saw it: {ours['refresh_total_s']} s,"
        f" {ours['refresh_children_cpu_s']} s of CPU in the refresh processes (all runs)"
        f"\nraw sqlite3 floor: reading {raw['history_rows']:,.0f} history rows {raw['read_history_rows_s']} s,"
        f" writing {raw['result_rows']:,.0f} result rows {raw['write_result_rows_s']} s"
        f"\npeak RSS: asking process (the GUI's place) {ours['peak_rss_mb_asking_process']} MB,"
        f" refresh process {ours['peak_rss_mb_refresh_child']} MB"
        f"\nload average at the end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}"
    )


if __name__ == "__main__":
    main()
