"""`main.py report day` as a subprocess on a small demo store: the PDF in Chinese, yesterday by default, refusals."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest

from tests.test_e2e_cli import run

pytestmark = pytest.mark.e2e


def test_report_day_writes_the_summary_and_db_check_agrees(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run("demo", "--members", "80", "--days", "40", data_dir=data).returncode == 0
    out = tmp_path / "day.pdf"
    result = run("report", "day", "--out", str(out), "--lang", "zh_CN", data_dir=data)
    assert result.returncode == 0, result.stderr
    yesterday = dt.date.today() - dt.timedelta(days=1)  # the demo's store clock is the real one
    shown = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "营业日报" in shown and "净销售额" in shown and "¥" in shown and "销售冠军" in shown
    assert yesterday.isoformat() in shown or (yesterday + dt.timedelta(days=1)).isoformat() in shown
    assert run("db", "check", data_dir=data).returncode == 0


def test_report_day_refuses_a_date_that_is_not_one(tmp_path: Path) -> None:
    result = run("report", "day", "--date", "2026-13-01", data_dir=tmp_path)
    assert result.returncode == 2 and "not a date" in result.stderr
    assert not list(tmp_path.glob("*.pdf"))
