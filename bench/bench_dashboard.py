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
from collections.abc import Callable
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
    """The page on the real task runner, from `attach()` until the work lists are painted. A 5 ms timer on the GUI
    thread finds the gaps (the longest time the GUI thread handled no event); each slot that runs on the GUI thread
    is timed, so the gap can be put down to it (or to nothing of ours: the interpreter lock held by the worker,
    or the process waiting for a core, which the same timer shows with the page idle before `attach()`)."""
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    from ui.dashboard.page import DashboardPage
    from ui.tasks import TaskRunner

    app = QApplication.instance() or QApplication([])
    runner = TaskRunner()
    page = DashboardPage(runner)
    page.resize(1280, 800)
    page.show()
    app.processEvents()
    gaps: list[tuple[float, float]] = []
    """(when the gap ended, its length)"""
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append((now, now - last[0]))
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    slots: dict[str, list[tuple[float, float]]] = {"show_summary": [], "a card or the staff": [], "work lists": []}
    shown: list[float] = []
    listed: list[float] = []
    painted: dict[str, list[float]] = {"figures": [], "work lists": []}

    class Paints(QObject):
        """The first real paint after the figures (and the work lists) were all set: when the owner sees them."""

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() in WATCHED:
                seen.append((time.perf_counter(), event.type().name))
            if event.type() == QEvent.Type.Paint:
                for name, done in (("figures", shown), ("work lists", listed)):
                    if done and not painted[name]:
                        painted[name].append(time.perf_counter())
            return False

    seen: list[tuple[float, str]] = []
    """(when, what) of the GUI thread's own work between ticks: painting, layout, polishing, queued results."""
    WATCHED = {
        QEvent.Type.Paint,
        QEvent.Type.LayoutRequest,
        QEvent.Type.Polish,
        QEvent.Type.UpdateRequest,
        QEvent.Type.MetaCall,
    }
    paints = Paints()
    app.installEventFilter(paints)

    def timed(name: str, run: Callable[..., None]) -> Callable[..., None]:
        def wrapper(*args: object) -> None:
            began = time.perf_counter()
            run(*args)
            slots[name].append((began, time.perf_counter() - began))

        return wrapper

    original_next = page._show_next

    def next_and_mark() -> None:
        timed("a card or the staff", original_next)()
        if page.summary is not None and not shown:
            shown.append(time.perf_counter())

    page.show_summary = timed("show_summary", page.show_summary)  # type: ignore[method-assign]
    page._show_next = next_and_mark  # type: ignore[method-assign]
    original_lists = page.show_work_lists

    def lists_and_mark(lists: object) -> None:
        timed("work lists", original_lists)(lists)
        listed.append(time.perf_counter())

    page.show_work_lists = lists_and_mark  # type: ignore[method-assign]
    services = store.services(store.operator("owner"))  # type: ignore[attr-defined]
    timer.start()
    idle_until = time.perf_counter() + 1.0
    last[0] = time.perf_counter()
    while time.perf_counter() < idle_until:
        app.processEvents()
        time.sleep(0.001)
    idle = max((g for _at, g in gaps), default=0.0)
    gaps.clear()
    cpu = time.process_time()
    last[0] = started = time.perf_counter()
    page.attach(services)
    while not (painted["figures"] and painted["work lists"]) and time.perf_counter() - started < 120:
        app.processEvents()
        time.sleep(0.001)
    cpu = time.process_time() - cpu
    app.removeEventFilter(paints)
    timer.stop()
    runner.shutdown()
    holder: QObject = page
    holder.deleteLater()
    found = {
        "open → figures painted ms": round((painted["figures"][0] - started) * 1000, 1)
        if painted["figures"]
        else float("nan"),
        "open → work lists painted ms": round((painted["work lists"][0] - started) * 1000, 1)
        if painted["work lists"]
        else float("nan"),
        "  CPU of the process meanwhile ms": round(cpu * 1000, 1),
        "longest GUI-thread gap ms": round(max((g for _at, g in gaps), default=0.0) * 1000, 1),
        "  same timer, page idle, before ms": round(idle * 1000, 1),
    }
    for name, runs in slots.items():
        found[f"  GUI thread in {name} ms"] = round(max((took for _b, took in runs), default=0.0) * 1000, 1)
    worst_end, worst = max(gaps, key=lambda g: g[1], default=(0.0, 0.0))
    inside = [
        name
        for name, runs in slots.items()
        for began, took in runs
        if began < worst_end and began + took > worst_end - worst
    ]
    events = sorted({what for at, what in seen if worst_end - worst <= at <= worst_end})
    print(
        f"the longest gap ended {1000 * (worst_end - started):.0f} ms after attach(); "
        f"our slots in it: {inside or 'none'}; events begun in it: {events or 'none'}"
    )
    return found


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
    print(f"process CPU {time.process_time():.1f} s; load average " + " ".join(f"{v:.1f}" for v in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
