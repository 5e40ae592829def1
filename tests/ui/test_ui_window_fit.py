"""Issue 15 finding 3 / issue 8 finding 7: the first window fits a 1366×768 screen (a 40-pixel taskbar below) at
100 %, 125 % and 150 %, status bar and function keys included. Each scale needs its own Qt process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREEN = {"name": "counter", "x": 0, "y": 0, "width": 1366, "height": 768 - 40, "logicalDpi": 96, "dpr": 1}


@pytest.mark.parametrize("scale", ["1", "1.25", "1.5"])
def test_the_first_window_fits_a_1366x768_screen(tmp_path: Path, scale: str) -> None:
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [SCREEN]}))
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}", "QT_SCALE_FACTOR": scale}
    result = subprocess.run(
        [sys.executable, "-m", "tests.ui.window_fit_probe"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    shape = json.loads(result.stdout.strip().splitlines()[-1])
    ax, ay, aw, ah = shape["available"]
    fx, fy, fw, fh = shape["frame"]
    slack = 1  # 1366 / 1.25 is 1092.8 logical pixels: Qt rounds the screen and the window each its own way
    assert ax <= fx and ay <= fy and fx + fw <= ax + aw + slack and fy + fh <= ay + ah + slack, shape
    assert shape["status_bottom"][1] < ay + ah, shape
    assert shape["minimum"][0] <= aw and shape["minimum"][1] <= ah, shape
    assert shape["size"][0] >= shape["minimum"][0] and shape["size"][1] >= shape["minimum"][1], shape
