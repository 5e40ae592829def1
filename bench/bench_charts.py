"""Charts (issue 13, DESIGN.md §7): changing a filter repaints a chart in ≤ 200 ms; the UI never frozen > 50 ms.

    .venv/bin/python bench/bench_charts.py [DIR] [--members 5000] [--days 730] [--rounds 3] [--charts sales,points]

DIR (or $MEMBERDESK_BENCH_STORE) is a store to open: a COPY, the benchmark only reads but never point it at a store
in use (the 1M store: migrate it first, `main.py --data-dir DIR db upgrade`). Without one it makes a demo store of
--members members in a temporary folder (`main.py demo`, then `main.py segments`). Figures, wall time and the
process's CPU time beside it (the machine may be shared: the load average is printed):
- open: the real 图表 page on the real task runner, from `attach()` until the first chart is painted, and the
  longest the GUI thread went without handling an event meanwhile (a 5 ms timer);
- for every chart and three filters (12 months by month, 30 days by day, one branch over 12 months): the figures
  the first time the filter is asked (`ChartService.chart`, on the worker in the app) and again (kept per filter),
  and the repaint (`ChartView.show_data` and a real paint, on the GUI thread);
- export: the CSV of the chart's figures and the PNG of the chart;
- baseline: raw sqlite3 summing 12 months of sales through the `sold_at` index, in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.charts.model import ChartFilter, ChartId, Grain
from app.context import Services, Store

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


def timed(run: Callable[[], T]) -> tuple[T, float, float]:
    """The result, wall seconds and this process's CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def load() -> str:
    return "load average " + " ".join(f"{v:.1f}" for v in os.getloadavg())


def make_store(folder: Path, members: int, days: int) -> None:
    main = [sys.executable, str(ROOT / "main.py"), "--data-dir", str(folder)]
    subprocess.run([*main, "demo", "--members", str(members), "--days", str(days), "--seed", "7"], check=True)
    subprocess.run([*main, "segments"], check=True, stdout=subprocess.DEVNULL)


def opened(app: QApplication, services: Services) -> tuple[float, float, float]:
    """The charts page attached → its first chart painted: wall ms, CPU ms, the longest GUI-thread gap ms."""
    from PySide6.QtWidgets import QLabel

    from ui.charts.page import ChartsPage
    from ui.tasks import TaskRunner

    warm = QLabel("今日经营 图表 会员")  # the main window has painted Chinese before anyone opens the charts
    warm.show()
    warm.repaint()
    runner = TaskRunner()
    page = ChartsPage(runner)
    page.resize(1280, 800)
    page.show()
    app.processEvents()
    warm.close()
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    painted: list[float] = []
    slots: list[tuple[float, float]] = []
    original = page.show_data

    def show_and_paint(data: object) -> None:
        began = time.perf_counter()
        original(data)  # type: ignore[arg-type]
        page.repaint()
        painted.append(time.perf_counter())
        slots.append((began, painted[-1] - began))

    page.show_data = show_and_paint  # type: ignore[method-assign]
    timer.start()
    cpu = time.process_time()
    last[0] = started = time.perf_counter()
    page.attach(services)
    while not painted and time.perf_counter() - started < 300:
        app.processEvents()
        time.sleep(0.001)
    cpu = time.process_time() - cpu
    timer.stop()
    runner.shutdown()
    page.deleteLater()
    print(f"  the first chart's show_data + repaint on the GUI thread: {max(t for _b, t in slots) * 1000:.0f} ms")
    return (painted[0] - started) * 1000, cpu * 1000, max(gaps, default=0.0) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", nargs="?", type=Path, default=None)
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--charts", default="", help="comma-separated chart ids (default: all)")
    args = parser.parse_args()
    app = QApplication([])
    from app.care.exports import write_atomically
    from ui.application import configure_application
    from ui.charts.view import ChartView

    configure_application(app, "zh_CN")
    given = args.dir or (
        Path(os.environ["MEMBERDESK_BENCH_STORE"]) if os.environ.get("MEMBERDESK_BENCH_STORE") else None
    )
    temp = tempfile.TemporaryDirectory() if given is None else None
    folder = given or Path(temp.name) / "data"  # type: ignore[union-attr]
    if temp is not None:
        started = time.perf_counter()
        make_store(folder, args.members, args.days)
        print(f"demo store of {args.members:,} members, {args.days} days: {time.perf_counter() - started:.0f} s")
    store, wall, cpu = timed(lambda: Store.open(folder, migrate=False))
    print(f"store opened in {ms(wall)} ms (CPU {ms(cpu)} ms): {folder}; {load()}")
    services = store.services(store.operator("owner"))
    wall_ms, cpu_ms, gap_ms = opened(app, services)
    print(f"open → first chart painted: {wall_ms:.0f} ms (CPU {cpu_ms:.0f} ms); longest GUI-thread gap {gap_ms:.0f} ms")
    charts = services.charts
    today = dt.date.today()
    year_ago = (today.replace(day=1) - dt.timedelta(days=335)).replace(day=1)
    branch = charts.branches()[0][0]
    filters = {
        "12 months by month": ChartFilter(year_ago, today, None, Grain.MONTH),
        "30 days by day": ChartFilter(today - dt.timedelta(days=29), today, None, Grain.DAY),
        "one branch, 12 months": ChartFilter(year_ago, today, branch, Grain.MONTH),
    }
    chosen = [ChartId(c) for c in args.charts.split(",") if c] or list(ChartId)
    view = ChartView()
    view.resize(1000, 560)
    view.show()
    app.processEvents()
    worst_first = worst_again = 0.0
    out = Path(tempfile.mkdtemp())
    print(
        f"{'chart':<14} {'filter':<22} {'first ms':>9} {'(CPU)':>7} {'again':>6} {'repaint':>8} {'(CPU)':>6} "
        f"{'total':>6}"
    )
    for chart in chosen:
        for name, chart_filter in filters.items():
            data, first, first_cpu = timed(
                lambda chart=chart, chart_filter=chart_filter: charts.chart(chart, chart_filter)
            )
            again, paints, paint_cpu = [], [], []
            for _ in range(args.rounds):
                again.append(timed(lambda chart=chart, chart_filter=chart_filter: charts.chart(chart, chart_filter))[1])

                def paint(data: object = data) -> None:
                    view.show_data(data)  # type: ignore[arg-type]
                    view.repaint()
                    app.processEvents()

                _r, paint_wall, paint_cpu_s = timed(paint)
                paints.append(paint_wall)
                paint_cpu.append(paint_cpu_s)
            cached, repaint = statistics.median(again), statistics.median(paints)
            worst_first = max(worst_first, first + repaint)
            worst_again = max(worst_again, cached + repaint)
            print(
                f"{chart.value:<14} {name:<22} {ms(first):>9} {ms(first_cpu):>7} {ms(cached):>6} {ms(repaint):>8} "
                f"{ms(statistics.median(paint_cpu)):>6} {ms(first + repaint):>6}"
            )
        columns, rows = data.table()
        csv_file, png_file = out / f"{chart.value}.csv", str(out / f"{chart.value}.png")
        _n, csv_wall, _c = timed(
            lambda csv_file=csv_file, columns=columns, rows=rows: write_atomically(csv_file, list(columns), iter(rows))
        )
        _ok, png_wall, _c = timed(lambda png_file=png_file: view.grab().save(png_file, "PNG"))
        print(f"{'':<14} export: CSV {ms(csv_wall)} ms, PNG {ms(png_wall)} ms")
    path = store.db.sqlite_path
    if path is not None:
        raw = sqlite3.connect(path)
        since = dt.datetime.combine(year_ago, dt.time()).isoformat(sep=" ")
        _r, wall, cpu = timed(
            lambda: raw.execute("SELECT COUNT(*), SUM(total_fen) FROM sales WHERE sold_at >= ?", (since,)).fetchone()
        )
        print(f"baseline: raw sqlite3 summing 12 months of sales by the sold_at index: {ms(wall)} ms (CPU {ms(cpu)})")
        raw.close()
    print(f"worst filter → repainted chart: first time {ms(worst_first)} ms, again {ms(worst_again)} ms (target ≤ 200)")
    print(f"process CPU {time.process_time():.1f} s; {load()}")
    store.close()
    if temp is not None:
        temp.cleanup()


if __name__ == "__main__":
    main()
