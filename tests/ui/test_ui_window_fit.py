"""Issue 15 finding 3 / issue 8 finding 7: the first window fits a 1366×768 screen (a 40-pixel taskbar below) at
100 %, 125 % and 150 %, status bar and function keys included; so does every page of the first-run wizard, its
fields and its Next/Start/Cancel buttons. Each scale needs its own Qt process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREEN = {"name": "counter", "x": 0, "y": 0, "width": 1366, "height": 768 - 40, "logicalDpi": 96, "dpr": 1}
SCALES = ["1", "1.25", "1.5"]
SLACK = 1  # 1366 / 1.25 is 1092.8 logical pixels: Qt rounds the screen and the window each its own way


def probe(tmp_path: Path, scale: str, *args: str) -> Any:
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [SCREEN]}))
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}", "QT_SCALE_FACTOR": scale}
    result = subprocess.run(
        [sys.executable, "-m", "tests.ui.window_fit_probe", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def inside(box: list[int], available: list[int]) -> bool:
    x, y, w, h = box
    ax, ay, aw, ah = available
    return ax <= x and ay <= y and x + w <= ax + aw + SLACK and y + h <= ay + ah + SLACK


@pytest.mark.parametrize("scale", SCALES)
def test_the_first_window_fits_a_1366x768_screen(tmp_path: Path, scale: str) -> None:
    shape = probe(tmp_path, scale)
    available = shape["available"]
    assert inside(shape["frame"], available), shape
    assert shape["status_bottom"][1] < available[1] + available[3], shape
    assert shape["minimum"][0] <= available[2] and shape["minimum"][1] <= available[3], shape
    assert shape["size"][0] >= shape["minimum"][0] and shape["size"][1] >= shape["minimum"][1], shape


@pytest.mark.parametrize("scale", SCALES)
def test_every_page_of_the_first_run_wizard_fits_a_1366x768_screen(tmp_path: Path, scale: str) -> None:
    for name, shape in probe(tmp_path, scale, "wizard").items():
        available = shape["available"]
        assert inside(shape["frame"], available), (name, shape)
        assert shape["buttons"] and all(inside(button, available) for button in shape["buttons"]), (name, shape)
        assert all(inside(field, available) for field in shape["fields"]), (name, shape)
        assert shape["size"][0] >= shape["minimum"][0] and shape["size"][1] >= shape["minimum"][1], (name, shape)
