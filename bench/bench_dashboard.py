"""The close-of-day dashboard on the big demo store: how long until the page is painted after it is opened, where
the time goes, and the baseline of the same sales figures summed from the raw sales in the same run. DESIGN.md §7:
painted ≤ 1 s; the UI never frozen > 50 ms (the figures are read on the task runner's worker).

    python bench/bench_dashboard.py [DIR] [--members 1000000]

DIR defaults to $MEMBERDESK_BENCH_STORE (made by bench/make_big_store.py if missing). Opening the store migrates
it (0008 fills the day totals once: that time is printed too). Figures:
- each part of `close_of_day()` (sales of five days from the day totals, the points ledger's five days, new
  members, complaints, CSAT, work lists, staff, categories, trend), warm, median of 5;
- open → painted: a real DashboardPage offscreen on the real TaskRunner, from `attach()` until the figure cards
  have been painted with the new figures; and the longest the GUI thread went without handling an event meanwhile;
- baseline: the same five days' and 28 days' sales summed from the raw `sales` rows (raw sqlite3).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench.make_big_store import MEMBERS, SQLITE_NAME, ensure_big_store  # noqa: E402


def _median_ms(run: object, times: int = 5) -> float:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 1)


def parts(store: object) -> dict[str, float]:
    import datetime as dt

    from app.dashboard.figures import CloseOfDayService, DayWindow
    from app.settings import read_settings

    service = store.services(store.operator("owner")).close_of_day  # type: ignore[attr-defined]
    assert isinstance(service, CloseOfDayService)
    db = store.db  # type: ignore[attr-defined]
    day = service.today()
    zone = service.store_now().tzinfo
    windows = [DayWindow(day - dt.timedelta(weeks=w), zone) for w in range(5)]
    found: dict[str, float] = {}
    with db.session() as session:
        read_settings(session)
        found["sales of 5 days (day totals)"] = _median_ms(
            lambda: [service._sales_totals(session, w.day, w.day) for w in windows]
        )
        found["all figures of 5 days"] = _median_ms(lambda: [service._day_values(session, w) for w in windows])
        now = service.clock.now()
        found["work lists"] = _median_ms(lambda: service._work_lists(session, windows[0], now))
        for code, query in service._work_list_queries(windows[0], now).items():
            found[f"  work list {code}"] = _median_ms(lambda query=query: session.scalar(query), 3)
        found["staff, 7 days"] = _median_ms(lambda: service._staff(session, day - dt.timedelta(days=6), day, zone))
        found["categories"] = _median_ms(lambda: service._categories(session, day))
        found["trend, 28 days"] = _median_ms(lambda: service._trend(session, day))
    found["close_of_day() without work lists"] = _median_ms(lambda: service.close_of_day(day, work_lists=False))
    return found


def raw_baseline(data_dir: Path) -> dict[str, float]:
    """The sales figures of the five days and the 28-day trend summed from the raw sales with raw sqlite3."""
    con = sqlite3.connect(data_dir / SQLITE_NAME)
    (last,) = con.execute("SELECT date(max(sold_at), '+8 hours') FROM sales").fetchone()
    five = " OR ".join(f"date(sold_at, '+8 hours') = date('{last}', '-{7 * w} days')" for w in range(5))
    day_sql = "date(sold_at, '+8 hours')"

    def five_days() -> None:
        con.execute(
            f"""SELECT {day_sql}, SUM(total_fen), SUM(CASE WHEN member_id IS NOT NULL THEN total_fen END), COUNT(*)
                FROM sales WHERE sold_at >= datetime('{last}', '-29 days') AND ({five}) GROUP BY 1"""
        ).fetchall()

    def trend() -> None:
        con.execute(
            f"""SELECT {day_sql}, SUM(total_fen) FROM sales WHERE sold_at >= datetime('{last}', '-28 days')
                GROUP BY 1"""
        ).fetchall()

    def two_years() -> None:
        con.execute(f"SELECT {day_sql}, SUM(total_fen) FROM sales GROUP BY 1").fetchall()

    found = {
        "raw: 5 days' sales": _median_ms(five_days),
        "raw: 28-day trend": _median_ms(trend),
        "raw: daily totals over all sales": _median_ms(two_years, 1),
    }
    con.close()
    return found


def painted(store: object) -> dict[str, float]:
    from PySide6.QtCore import QObject, QTimer
    from PySide6.QtWidgets import QApplication

    from ui.dashboard.page import DashboardPage
    from ui.tasks import TaskRunner

    app = QApplication.instance() or QApplication([])
    runner = TaskRunner()
    page = DashboardPage(runner)
    page.resize(1280, 800)
    page.show()
    app.processEvents()
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    shown: list[float] = []
    listed: list[float] = []
    original, original_lists = page.show_summary, page.show_work_lists

    def show_and_paint(summary: object) -> None:
        original(summary)  # type: ignore[arg-type]
        page.repaint()
        shown.append(time.perf_counter())

    def lists_and_paint(lists: object) -> None:
        original_lists(lists)  # type: ignore[arg-type]
        page.repaint()
        listed.append(time.perf_counter())

    page.show_summary = show_and_paint  # type: ignore[method-assign]
    page.show_work_lists = lists_and_paint  # type: ignore[method-assign]
    services = store.services(store.operator("owner"))  # type: ignore[attr-defined]
    timer.start()
    last[0] = started = time.perf_counter()
    page.attach(services)
    while not listed and time.perf_counter() - started < 120:
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    runner.shutdown()
    holder: QObject = page
    holder.deleteLater()
    return {
        "open → figures painted ms": round((shown[0] - started) * 1000, 1) if shown else float("nan"),
        "open → work lists painted ms": round((listed[0] - started) * 1000, 1) if listed else float("nan"),
        "longest GUI-thread gap ms": round(max(gaps) * 1000, 1) if gaps else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", nargs="?", type=Path, default=None)
    parser.add_argument("--members", type=int, default=MEMBERS)
    args = parser.parse_args()
    data_dir = ensure_big_store(args.dir, args.members)
    from app.context import Store
    from db.engine import Database, sqlite_url
    from db.migrate import current_revision, upgrade

    # Migrated here without the backup Store.open would make first (a second copy of a 10 GB file).
    database = Database(sqlite_url(data_dir / SQLITE_NAME))
    before = current_revision(database)
    started = time.perf_counter()
    upgrade(database)
    print(f"migrated {before} → {current_revision(database)} in {time.perf_counter() - started:.1f} s (0008 fills)")
    database.dispose()
    started = time.perf_counter()
    store = Store.open(data_dir)
    print(f"store opened in {time.perf_counter() - started:.1f} s: {data_dir}")
    try:
        for name, ms in painted(store).items():
            print(f"{name:>40}: {ms}")
        for name, ms in parts(store).items():
            print(f"{name:>40}: {ms} ms")
    finally:
        store.close()
    for name, ms in raw_baseline(data_dir).items():
        print(f"{name:>40}: {ms} ms")
    print("targets: painted ≤ 1000 ms after opening; GUI thread never blocked > 50 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
