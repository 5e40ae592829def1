"""The care subcommands as a subprocess: print forms, results, export complaints, and refusals on bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.printing import readback
from tests.test_e2e_cli import run

pytestmark = pytest.mark.e2e


def test_surveys_print_results_and_complaints_export(tmp_path: Path) -> None:
    data = tmp_path / "data"
    out = tmp_path / "forms.pdf"
    printed = run("surveys", "print", "SAT", "--count", "3", "--out", str(out), data_dir=data)
    assert printed.returncode == 0, printed.stderr
    assert "SV000000018" in printed.stdout
    assert [value for _kind, value in readback.barcodes(out, dpi=150)] == ["SV000000018", "SV000000026", "SV000000034"]
    unknown = run("surveys", "print", "NOPE", "--count", "3", "--out", str(tmp_path / "x.pdf"), data_dir=data)
    assert unknown.returncode == 1 and "NOPE" in unknown.stderr and not (tmp_path / "x.pdf").exists()
    results = run("surveys", "results", "SAT", "--out", str(tmp_path / "r.csv"), data_dir=data)
    assert results.returncode == 0 and "NPS" in results.stdout
    assert "CSAT" in (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    export = run("complaints", "export", str(tmp_path / "c.xlsx"), "--from", "2026-01-01", data_dir=data)
    assert export.returncode == 0 and "0 complaints" in export.stdout
    bad = run("complaints", "export", str(tmp_path / "c.csv"), "--from", "yesterday", data_dir=data)
    assert bad.returncode == 1 and "yesterday" in bad.stderr
