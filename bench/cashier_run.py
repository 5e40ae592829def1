#!/usr/bin/env python3
"""A scripted cashier at a real window: Xvfb at 1366×768, the openbox window manager, the real program, keys typed
with xdotool at a person's pace (400 ms a key unless --delay says otherwise), a screenshot after every step.

    python bench/cashier_run.py [--out FOLDER] [--delay MS] [--scale 1|1.25|1.5] [--members N]

Needs Debian's `xvfb openbox xdotool imagemagick` (for `import`). The store is a fresh demo store in a temporary
folder (cashier1, PIN 1234). Look at the screenshots in FOLDER (default bench/cashier-run/): nothing cut off,
nothing overlapping, Chinese rendered, the amount recorded as typed. The script prints each step and its time, and
the amount the database recorded for the purchase typed as 128.50 (it exits 1 if that differs)."""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DISPLAY = ":87"
SCREEN = "1366x768x24"
CASHIER_PIN = "1234"


class Desk:
    def __init__(self, out: Path, delay_ms: int) -> None:
        self.out = out
        self.delay_ms = delay_ms
        self.shot = 0
        self.env = {**os.environ, "DISPLAY": DISPLAY}
        self.started = time.monotonic()

    def run(self, *args: str) -> str:
        return subprocess.run(args, env=self.env, capture_output=True, text=True, check=False).stdout.strip()

    def type(self, text: str) -> None:
        self.run("xdotool", "type", "--delay", str(self.delay_ms), text)

    def key(self, *keys: str) -> None:
        for key in keys:
            self.run("xdotool", "key", key)
            time.sleep(0.25)

    def settle(self, seconds: float = 0.8) -> None:
        time.sleep(seconds)

    def snap(self, name: str) -> None:
        self.shot += 1
        path = self.out / f"{self.shot:02d}-{name}.png"
        self.run("import", "-window", "root", str(path))
        print(f"{time.monotonic() - self.started:6.1f} s  {path.name}", flush=True)

    def wait_for_window(self, title: str, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.run("xdotool", "search", "--onlyvisible", "--name", title):
                return
            time.sleep(0.3)
        raise SystemExit(f"no window named {title!r} within {timeout_s:.0f} s")


def recorded_amounts(data_dir: Path) -> list[int]:
    with sqlite3.connect(data_dir / "memberdesk.sqlite3") as db:
        return [row[0] for row in db.execute("SELECT total_fen FROM sales WHERE receipt_no = 'XV-12850'")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "cashier-run")
    parser.add_argument("--delay", type=int, default=400, help="milliseconds between keys")
    parser.add_argument("--scale", default="1", help="QT_SCALE_FACTOR (1, 1.25, 1.5)")
    parser.add_argument("--members", type=int, default=300)
    args = parser.parse_args()
    for tool in ("Xvfb", "openbox", "xdotool", "import"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: apt-get install xvfb openbox xdotool imagemagick")
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    data_dir = Path(tempfile.mkdtemp(prefix="cashier-run-")) / "data"
    python = sys.executable
    subprocess.run(
        [python, "main.py", "--data-dir", str(data_dir), "demo", "--members", str(args.members), "--days", "120"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    desk = Desk(args.out, args.delay)
    xvfb = subprocess.Popen(["Xvfb", DISPLAY, "-screen", "0", SCREEN, "-nolisten", "tcp"])
    processes = [xvfb]
    try:
        time.sleep(1.0)
        processes.append(subprocess.Popen(["openbox"], env=desk.env, stderr=subprocess.DEVNULL))
        time.sleep(1.0)
        app_env = {**desk.env, "QT_QPA_PLATFORM": "xcb", "QT_SCALE_FACTOR": args.scale}
        app = subprocess.Popen([python, "main.py", "--data-dir", str(data_dir)], cwd=ROOT, env=app_env)
        processes.append(app)
        desk.wait_for_window("登录")
        desk.settle(1.5)
        desk.snap("sign-in")
        desk.type(CASHIER_PIN)
        desk.key("Return")
        desk.settle(1.5)
        desk.snap("counter-signed-in")

        desk.type("138")
        desk.settle()
        desk.snap("matches-as-typed")
        desk.key("Return")
        desk.settle()
        desk.snap("member-open")

        desk.key("F4")
        desk.settle()
        desk.type("128.50")
        desk.settle()
        desk.snap("purchase-typed-slowly")
        desk.key("Tab", "Tab")
        desk.type("XV-12850")
        desk.key("Return")  # a scanned receipt's Enter moves on
        desk.key("Return")  # Record: the confirmation
        desk.settle()
        desk.snap("purchase-confirm")
        desk.key("Return")
        desk.settle(1.2)
        desk.snap("purchase-recorded")

        desk.key("F6")
        desk.settle(1.2)
        desk.snap("return-pick")
        desk.key("Return")
        desk.settle()
        desk.snap("return-confirm")
        desk.key("Escape")
        desk.settle()

        desk.type("139")
        desk.settle()
        desk.snap("new-search-closes-member")
        desk.key("Escape")
        desk.settle()
        desk.type("13900001111")
        desk.settle()
        desk.snap("no-match")
        desk.key("F2")
        desk.settle()
        desk.snap("register-prefilled")
        desk.key("Return")
        desk.settle()
        desk.snap("register-refused-all-shown")
        desk.key("Escape")
        desk.settle()

        desk.key("F12")
        desk.settle()
        desk.snap("switch-operator")
        desk.key("Escape")
        desk.settle()
        desk.key("ctrl+l")
        desk.settle()
        desk.snap("locked")
        desk.type(CASHIER_PIN)
        desk.key("Return")
        desk.settle()
        desk.snap("unlocked")
        desk.key("ctrl+q")
        app.wait(timeout=20)
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=10)
    amounts = recorded_amounts(data_dir)
    print(f"purchase typed as 128.50 at {args.delay} ms a key recorded as: {amounts} fen")
    shutil.rmtree(data_dir.parent, ignore_errors=True)
    return 0 if amounts == [12850] else 1


if __name__ == "__main__":
    sys.exit(main())
