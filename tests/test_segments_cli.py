"""`main.py segments` as a new user runs it: a fresh store from a purchase log, a file out, bad input refused."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from app.insights.export import COLUMNS
from tests.test_e2e_cli import run

pytestmark = pytest.mark.e2e
SAMPLE = Path(__file__).resolve().parent / "data" / "cdnow" / "cdnow_sample_first_300_customers.csv"


def test_segments_on_a_store_made_by_sales_import(tmp_path: Path) -> None:
    data = tmp_path / "store"
    assert run("sales", "import", str(SAMPLE), "--create-missing", data_dir=data).returncode == 0
    out = tmp_path / "segments.csv"
    result = run("segments", "--as-of", "1997-09-30", "--horizon-days", "90", "--out", str(out), data_dir=data)
    assert result.returncode == 0, result.stderr
    assert "BG/NBD (time in weeks): r = " in result.stdout and "Customer pyramid:" in result.stdout
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0][: len(COLUMNS)]) == COLUMNS and len(rows) == 301
    assert not any(cell.lower() in ("nan", "inf") for row in rows for cell in row)


def test_bad_input_is_refused_with_a_message(tmp_path: Path) -> None:
    for args, words in (
        (("--as-of", "2999-01-01"), "in the future"),
        (("--as-of", "1997-02-30"), "not a date"),
        (("--out", str(tmp_path / "x.txt")), ".csv or .xlsx"),
        (("--horizon-days", "0"), "between 1 and 3650"),
    ):
        result = run("segments", *args, data_dir=tmp_path / "store")
        assert result.returncode != 0 and words in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
