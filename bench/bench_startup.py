#!/usr/bin/env python3
"""Start-up of the counter window, offscreen (docs/ARCHITECTURE.md §7: ready for the first keystroke ≤ 0.8 s on a
1M-member store; resident memory ≤ 250 MB).

    python bench/bench_startup.py [--data-dir DIR] [--runs N]

Each figure is measured in fresh processes, from just before the process is started until it reports, so the
interpreter's own start-up counts as it does for a cashier. Beside it, in the same run, the physical baseline: a bare
QMainWindow with a focused line edit. Without --data-dir a small temporary store is made.

Figures:
  ready         window shown with the lookup box focused; the script types "1" at once
  store         the store opened on the counter's worker, a cashier signed in (PIN typed by the script as soon as
                the sign-in dialog can take it) and the window working as that operator
  first lookup  the first key's matches painted (the list's real Paint event): the cashier's first answer
                (issue 14: ≤ 0.8 s warm, ≤ 1.5 s cold; the sign-in is part of it here, at machine speed)
  keystroke     "1" typed into the empty box, half a second later, until the real Paint event of its matches
                (≤ 30 ms; the 80 ms debounce of a person's typing is not applied to the first key)
  burst         "138" typed 40 ms apart: the last key until the real Paint event (≤ 50 ms)
  RSS           resident memory after the store opened and the lookups ran
With --cold the store's files are evicted from the OS page cache (posix_fadvise DONTNEED) before every run.
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
FIRST_LOOKUP_TARGET_S = {False: 0.8, True: 1.5}
KEYSTROKE_TARGET_MS = 30.0
BURST_TARGET_MS = 50.0
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
    from PySide6.QtCore import QElapsedTimer, QEvent, QObject, Qt, QTimer
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication

    from ui.application import start_gui

    session = start_gui(data_dir, None, "zh_CN")
    window, app = session.window, session.app
    box, hits = window.counter.lookup, window.counter.hits
    clock = QElapsedTimer()
    state = {"waiting": "", "reset": False}
    """What the next painted list answers ('first', 'key', 'burst'); whether its model reset has been seen."""

    class PaintWatch(QObject):
        """The clock stops at the list's real Paint event after the answer's model reset, not at the reset."""

        def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and state["reset"] and hits.rowCount():
                waiting, state["waiting"], state["reset"] = state["waiting"], "", False
                QTimer.singleShot(0, lambda: painted(str(waiting)))
            return False

    watch = PaintWatch()
    window.counter.hits_view.viewport().installEventFilter(watch)
    hits.modelReset.connect(lambda: state.update(reset=bool(state["waiting"])))

    def key(char: str) -> None:
        for kind in (QKeyEvent.Type.KeyPress, QKeyEvent.Type.KeyRelease):
            QApplication.sendEvent(box, QKeyEvent(kind, Qt.Key.Key_1, Qt.KeyboardModifier.NoModifier, char))

    def ready() -> None:
        if QApplication.focusWidget() is box and window.isVisible():
            say("ready")
            state["waiting"] = "first"
            key("1")  # typed at once: kept, and looked up as soon as the store is open and someone signed in
        else:
            QTimer.singleShot(1, ready)

    def sign_in() -> None:
        """Everyone signs in at start: the script types a cashier's PIN (the owner's on a store without one) as soon as
        the dialog takes it."""
        dialog = window.sign_in_dialog
        if dialog is None or not dialog.ok.isEnabled():
            QTimer.singleShot(1, sign_in)
            return
        cashier = dialog.account.findData("cashier1")  # the demo's cashier: owners land on the close-of-day page
        dialog.account.setCurrentIndex(cashier if cashier >= 0 else dialog.account.findData("owner"))
        dialog.pin.setText("1234" if cashier >= 0 else "0000")
        dialog.submit()

    def single_key() -> None:
        """One key after a pause, as a cashier types it."""
        modal = QApplication.activeModalWidget()
        if modal is not None:  # the prompt to replace the starting PIN
            modal.close()
        box.clear()
        state["waiting"] = "key"
        clock.start()
        key("1")

    def burst(chars: str = "138", gap_ms: int = 40) -> None:
        """Keys 40 ms apart; the clock starts at the last one."""
        box.clear()
        for n, char in enumerate(chars):
            last = n == len(chars) - 1
            QTimer.singleShot(n * gap_ms, lambda c=char, last=last: (last and start_burst(), key(c)))

    def start_burst() -> None:
        state["waiting"] = "burst"
        clock.start()

    def painted(what: str) -> None:
        if what == "first":
            say("first_lookup")
            QTimer.singleShot(500, single_key)  # let the first paints settle
        elif what == "key":
            say("keystroke", ms=clock.nsecsElapsed() / 1e6)
            QTimer.singleShot(300, burst)
        elif what == "burst":
            services = window.services
            assert services is not None
            say("burst", ms=clock.nsecsElapsed() / 1e6, members=services.members.count(), rss_mb=rss_mb())
            app.quit()

    window.services_attached.connect(lambda: say("store"))
    window.services_attached.connect(lambda: QTimer.singleShot(0, lambda: window.show_page(0)))  # owner: the counter
    QTimer.singleShot(0, ready)
    QTimer.singleShot(0, sign_in)
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
    parser.add_argument("--cold", action="store_true", help="evict the store's files before every run")
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
        run_child(["--child", "app", "--data-dir", str(data_dir)])  # warm the file cache, the interpreter's too
        bare = [run_child(["--child", "bare"]) for _ in range(args.runs)]
        app = []
        for _ in range(args.runs):
            if args.cold:
                from bench_lookup import evict  # here: the measured children must not import the database layer

                evict(sorted(data_dir.glob("memberdesk.sqlite3*")))
            app.append(run_child(["--child", "app", "--data-dir", str(data_dir)]))

    def mid(event: str, figure: str = "at_s") -> float:
        return statistics.median([run[event][figure] for run in app])

    bare_ready = median([run["ready"]["at_s"] for run in bare])
    bare_rss = median([run["ready"]["rss_mb"] for run in bare])
    first_target = FIRST_LOOKUP_TARGET_S[args.cold]
    members = int(app[0]["burst"]["members"])
    each = ", ".join(f"{run['first_lookup']['at_s']:.2f}" for run in app)
    print(
        f"start-up, offscreen, {'cold' if args.cold else 'warm'}, median of {args.runs} runs (each: "
        f"{each} s to the first lookup); "
        f"store: {data_dir} ({members:,} members); load average {os.getloadavg()[0]:.1f} on 2 cores"
    )
    print(f"  bare QMainWindow shown, line edit focused     {bare_ready:6.2f} s   RSS {bare_rss:5.0f} MB  (baseline)")
    print(
        f"  counter ready for the first keystroke         {mid('ready'):6.2f} s   "
        f"target ≤ {READY_TARGET_S} s: {verdict(mid('ready'), READY_TARGET_S)}"
    )
    print(f"  store open, cashier signed in                 {mid('store'):6.2f} s")
    print(
        f"  first lookup answered and painted             {mid('first_lookup'):6.2f} s   "
        f"target ≤ {first_target} s: {verdict(mid('first_lookup'), first_target)}"
    )
    print(
        f"  keystroke to the real Paint of its matches    {mid('keystroke', 'ms'):6.1f} ms  "
        f"target ≤ {KEYSTROKE_TARGET_MS:.0f} ms: {verdict(mid('keystroke', 'ms'), KEYSTROKE_TARGET_MS)}"
    )
    print(
        f"  burst (40 ms gaps), last key to Paint         {mid('burst', 'ms'):6.1f} ms  "
        f"target ≤ {BURST_TARGET_MS:.0f} ms: {verdict(mid('burst', 'ms'), BURST_TARGET_MS)}"
    )
    print(
        f"  resident memory after open + lookups          {mid('burst', 'rss_mb'):6.0f} MB  "
        f"target ≤ {RSS_TARGET_MB:.0f} MB: {verdict(mid('burst', 'rss_mb'), RSS_TARGET_MB)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
