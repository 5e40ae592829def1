#!/usr/bin/env python3
"""Start-up of the counter window, offscreen (docs/ARCHITECTURE.md §7: ready for the first keystroke ≤ 0.8 s on a
1M-member store; resident memory ≤ 250 MB).

    python bench/bench_startup.py [--data-dir DIR] [--runs N]

Each figure is measured in fresh processes, from just before the process is started until it reports, so the
interpreter's own start-up counts as it does for a cashier. Beside it, in the same run, the physical baseline: a bare
QMainWindow with a focused line edit. Without --data-dir a small temporary store is made.

Figures:
  ready      window shown with the lookup box focused (keys typed from here on are kept and looked up)
  store      the store opened on the worker and the window working as its operator
  keystroke  the key "1" typed into the empty box until its matches (phones from 1…) are painted (≤ 30 ms)
  RSS        resident memory after the store opened and a lookup ran
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READY_TARGET_S = 0.8
KEYSTROKE_TARGET_MS = 30.0
RSS_TARGET_MB = 250.0
TIMEOUT_S = 120


def rss_mb() -> float:
    """Resident memory now (Linux), else the peak (other systems)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def say(event: str, **figures: object) -> None:
    print(json.dumps({"event": event, **figures}), flush=True)


# -- the measured processes ------------------------------------------------------------------------------------
def child_bare() -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QLineEdit, QMainWindow

    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    box = QLineEdit()
    window.setCentralWidget(box)
    window.show()
    box.setFocus()

    def ready() -> None:
        say("ready", rss_mb=rss_mb())
        app.quit()

    QTimer.singleShot(0, ready)
    app.exec()


def child_app(data_dir: Path) -> None:
    from PySide6.QtCore import QElapsedTimer, Qt, QTimer
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication

    from ui.application import start_gui

    session = start_gui(data_dir, None, "zh_CN")
    window, app = session.window, session.app
    box, hits = window.counter.lookup, window.counter.hits

    def ready() -> None:
        if QApplication.focusWidget() is box and window.isVisible():
            say("ready")
        else:
            QTimer.singleShot(1, ready)

    clock = QElapsedTimer()

    def type_key() -> None:
        """One key after a pause, as a cashier types it; the clock stops when the painted list shows matches."""
        hits.modelReset.connect(painted)
        clock.start()
        for kind in (QKeyEvent.Type.KeyPress, QKeyEvent.Type.KeyRelease):
            QApplication.sendEvent(box, QKeyEvent(kind, Qt.Key.Key_1, Qt.KeyboardModifier.NoModifier, "1"))

    def painted() -> None:
        if not hits.rowCount():
            return
        window.counter.hits_view.viewport().repaint()
        elapsed_ms = clock.nsecsElapsed() / 1e6
        services = window.services
        assert services is not None
        say("keystroke", ms=elapsed_ms, hits=hits.rowCount(), members=services.members.count(), rss_mb=rss_mb())
        app.quit()

    def store_open() -> None:
        say("store")
        QTimer.singleShot(200, type_key)  # let the start-up maintenance and first paints settle

    window.services_attached.connect(store_open)
    QTimer.singleShot(0, ready)
    try:
        app.exec()
    finally:
        session.close()


# -- the parent ---------------------------------------------------------------------------------------------------
def run_child(args: list[str]) -> dict[str, dict[str, float]]:
    """Start one measured process; each event's time is taken here, from just before the process started."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, __file__, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    events: dict[str, dict[str, float]] = {}
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("{"):
            event = json.loads(line)
            event["at_s"] = time.perf_counter() - started
            events[event.pop("event")] = event
    _, stderr = process.communicate(timeout=TIMEOUT_S)
    if process.returncode != 0:
        raise SystemExit(f"measured process failed ({process.returncode}):\n{stderr}")
    return events


def make_small_store(folder: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from app.context import Store
    from app.members.service import MemberForm

    store = Store.open(folder)
    services = store.services(store.operator())
    for n in range(50):
        services.members.register(MemberForm(phone=f"1381234{n:04d}", name=f"会员{n}", membership_consent=True))
    store.close()


def median(values: list[float]) -> float:
    return statistics.median(values)


def verdict(value: float, target: float) -> str:
    return "OK" if value <= target else "OVER"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, help="an existing store (default: a small temporary one)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", choices=["bare", "app"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "bare":
        child_bare()
        return 0
    if args.child == "app":
        child_app(args.data_dir)
        return 0

    with tempfile.TemporaryDirectory() as scratch:
        data_dir = args.data_dir
        if data_dir is None:
            data_dir = Path(scratch) / "store"
            make_small_store(data_dir)
        run_child(["--child", "app", "--data-dir", str(data_dir)])  # warm the file cache
        bare = [run_child(["--child", "bare"]) for _ in range(args.runs)]
        app = [run_child(["--child", "app", "--data-dir", str(data_dir)]) for _ in range(args.runs)]

    bare_ready = median([run["ready"]["at_s"] for run in bare])
    bare_rss = median([run["ready"]["rss_mb"] for run in bare])
    ready = median([run["ready"]["at_s"] for run in app])
    store = median([run["store"]["at_s"] for run in app])
    keystroke = median([run["keystroke"]["ms"] for run in app])
    rss = median([run["keystroke"]["rss_mb"] for run in app])
    members = int(app[0]["keystroke"]["members"])
    print(f"start-up, offscreen, median of {args.runs} runs; store: {data_dir} ({members:,} members)")
    print(f"  bare QMainWindow shown, line edit focused     {bare_ready:6.2f} s   RSS {bare_rss:5.0f} MB  (baseline)")
    print(
        f"  counter ready for the first keystroke         {ready:6.2f} s   "
        f"target ≤ {READY_TARGET_S} s: {verdict(ready, READY_TARGET_S)}"
    )
    print(f"  store open, lookups answered from here        {store:6.2f} s")
    print(
        f"  keystroke to painted matches                  {keystroke:6.1f} ms  "
        f"target ≤ {KEYSTROKE_TARGET_MS:.0f} ms: {verdict(keystroke, KEYSTROKE_TARGET_MS)}"
    )
    print(
        f"  resident memory after open + lookup           {rss:6.0f} MB  "
        f"target ≤ {RSS_TARGET_MB:.0f} MB: {verdict(rss, RSS_TARGET_MB)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
