"""Charts (issue 13, DESIGN.md §7): changing a filter repaints a chart in ≤ 200 ms.

For every chart and three filters (last 12 months by month, last 30 days by day, one branch over 12 months) it
times the figures (`ChartService.chart`, what runs on the worker thread) and the repaint (`ChartView.show_data`
and a real paint of the widget, on the GUI thread), median of a few rounds. The baseline is raw sqlite3 counting
the period's sales by their `sold_at` index, from the same run. Without MEMBERDESK_BENCH_STORE it makes a demo store
of --members members in a temporary folder (`main.py demo`, then `main.py segments`); with it, it opens that store
(a COPY: the benchmark only reads, but never point it at a store in use).

    .venv/bin/python bench/bench_charts.py [--members 5000] [--days 730] [--rounds 3]
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
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtWidgets import QApplication

from app.charts.model import ChartFilter, ChartId, Grain
from app.context import Store

ROOT = Path(__file__).resolve().parent.parent


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def make_store(folder: Path, members: int, days: int) -> None:
    main = [sys.executable, str(ROOT / "main.py"), "--data-dir", str(folder)]
    subprocess.run([*main, "demo", "--members", str(members), "--days", str(days), "--seed", "7"], check=True)
    subprocess.run([*main, "segments"], check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    app = QApplication([])
    from ui.application import configure_application
    from ui.charts.view import ChartView

    configure_application(app, "zh_CN")
    given = os.environ.get("MEMBERDESK_BENCH_STORE")
    temp = tempfile.TemporaryDirectory() if not given else None
    folder = Path(given) if given else Path(temp.name) / "data"  # type: ignore[union-attr]
    if temp is not None:
        started = time.perf_counter()
        make_store(folder, args.members, args.days)
        print(f"demo store of {args.members:,} members, {args.days} days: {time.perf_counter() - started:.0f} s")
    store = Store.open(folder, migrate=False)
    services = store.services(store.operator("owner"))
    charts = services.charts
    today = dt.date.today()
    year_ago = (today.replace(day=1) - dt.timedelta(days=335)).replace(day=1)
    branch = charts.branches()[0][0]
    filters = {
        "12 months by month": ChartFilter(year_ago, today, None, Grain.MONTH),
        "30 days by day": ChartFilter(today - dt.timedelta(days=29), today, None, Grain.DAY),
        "one branch, 12 months": ChartFilter(year_ago, today, branch, Grain.MONTH),
    }
    view = ChartView()
    view.resize(1000, 560)
    view.show()
    app.processEvents()
    worst = 0.0
    print(f"{'chart':<14} {'filter':<24} {'figures':>9} {'repaint':>9} {'total':>9}")
    for chart in ChartId:
        for name, chart_filter in filters.items():
            figures, paints = [], []
            for _ in range(args.rounds):
                started = time.perf_counter()
                data = charts.chart(chart, chart_filter)
                figures.append(time.perf_counter() - started)
                started = time.perf_counter()
                view.show_data(data)
                view.repaint()
                app.processEvents()
                paints.append(time.perf_counter() - started)
            query, paint = statistics.median(figures), statistics.median(paints)
            worst = max(worst, query + paint)
            print(f"{chart.value:<14} {name:<24} {ms(query):>9} {ms(paint):>9} {ms(query + paint):>9}")
    path = store.db.sqlite_path
    if path is not None:
        raw = sqlite3.connect(path)
        since = dt.datetime.combine(year_ago, dt.time()).isoformat(sep=" ")
        started = time.perf_counter()
        raw.execute("SELECT COUNT(*), SUM(total_fen) FROM sales WHERE sold_at >= ?", (since,)).fetchone()
        took = ms(time.perf_counter() - started)
        print(f"baseline: raw sqlite3 summing 12 months of sales by the sold_at index: {took}")
        raw.close()
    print(f"worst filter → repainted chart: {ms(worst)} (target ≤ 200 ms)")
    store.close()
    if temp is not None:
        temp.cleanup()


if __name__ == "__main__":
    main()
