"""The real program as a subprocess on a temporary data folder (qutebrowser-style end-to-end tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e


def run(*args: str, data_dir: Path, database: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    extra = ["--database", database] if database else []
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args, "--data-dir", str(data_dir), *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_self_test_passes_and_leaves_its_evidence(tmp_path: Path) -> None:
    result = run("self-test", data_dir=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "self-test: OK" in result.stdout
    assert (tmp_path / "selftest-window.png").stat().st_size > 10_000
    assert (tmp_path / "selftest.pdf").read_bytes().startswith(b"%PDF")


def test_self_test_fails_with_a_reason_on_a_damaged_database(tmp_path: Path) -> None:
    (tmp_path / "memberdesk.sqlite3").write_bytes(b"this is not a database" * 100)
    result = run("self-test", data_dir=tmp_path)
    assert result.returncode == 1
    assert "database" in result.stderr and "self-test: FAILED" in result.stdout


def test_db_upgrade_and_check_on_postgresql(db_url: str, tmp_path: Path) -> None:
    assert run("db", "upgrade", data_dir=tmp_path, database=db_url).returncode == 0
    result = run("db", "check", data_dir=tmp_path, database=db_url)
    assert result.returncode == 0 and "OK" in result.stdout


def test_members_import_reports_lines_and_exit_code(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("手机号,姓名,积分\n13811112222,张三,10\n13811113333,李四,0\n", encoding="gb18030")
    bad = tmp_path / "bad.csv"
    bad.write_text("phone,name\n13811114444,王五\n12345,坏号\n", encoding="utf-8")
    data = tmp_path / "data"
    first = run("members", "import", str(good), data_dir=data)
    assert first.returncode == 0, first.stderr
    assert "2 imported" in first.stdout
    assert "0 imported, 2 already there" in run("members", "import", str(good), data_dir=data).stdout
    strict = run("members", "import", str(bad), "--all-or-nothing", data_dir=data)
    assert strict.returncode == 1 and "line 3:" in strict.stderr and "nothing was imported" in strict.stdout
    partial = run("members", "import", str(bad), data_dir=data)
    assert partial.returncode == 1 and "line 3:" in partial.stderr and "1 imported" in partial.stdout
    out = tmp_path / "all.xlsx"
    assert run("members", "export", str(out), data_dir=data).returncode == 0
    assert out.stat().st_size > 1000
    missing = run("members", "import", str(tmp_path / "nope.csv"), data_dir=data)
    assert missing.returncode != 0 and "Traceback" not in missing.stderr


def test_command_line_speaks_chinese_when_asked(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("phone,name\n123,坏号\n", encoding="utf-8")
    result = run("members", "import", str(bad), "--lang", "zh_CN", data_dir=tmp_path / "data")
    assert result.returncode == 1
    assert "line 2: 不是有效的大陆手机号：123" in result.stderr
    assert "拒绝 1 条" in result.stdout


def test_db_check_reports_indexes_left_down_and_db_upgrade_builds_them(tmp_path: Path) -> None:
    from app.context import Store
    from app.importing.members import BULK_TABLES
    from db.bulk import drop_indexes

    store = Store.open(tmp_path)
    try:  # a big import stopped between dropping its indexes and building them again
        store.db.write(lambda s: drop_indexes(s.connection(), BULK_TABLES, unique_too=False))
    finally:
        store.close()
    check = run("db", "check", data_dir=tmp_path)
    assert check.returncode == 1 and "lookup indexes are missing" in check.stderr, check.stderr
    upgrade = run("db", "upgrade", data_dir=tmp_path)
    assert upgrade.returncode == 0 and "lookup indexes left down" in upgrade.stdout, upgrade.stdout
    again = run("db", "check", data_dir=tmp_path)
    assert again.returncode == 0, again.stderr


def test_sales_import_of_the_cdnow_sample_from_the_command_line(tmp_path: Path) -> None:
    log = ROOT / "tests" / "data" / "cdnow" / "cdnow_sample_sales.csv"
    result = run("sales", "import", str(log), "--create-missing", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "6919 imported, 0 already there, 0 refused" in result.stdout
    assert "SELECT" not in result.stderr and "Traceback" not in result.stderr
    assert run("db", "check", data_dir=tmp_path).returncode == 0
