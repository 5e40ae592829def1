"""Finding 2: a Chinese Windows console (code page 936) has no "¥"; output must never fail on encoding, and an error
after a commit must never claim that nothing was kept."""

from __future__ import annotations

import io
import logging
import sys
from pathlib import Path

import pytest

import main
from app.console import make_console_safe
from tests.windows.support import run_main


def test_demo_redirected_to_a_cp936_file_succeeds_and_shows_fullwidth_yuan(tmp_path: Path) -> None:
    result = run_main(
        "--data-dir", str(tmp_path / "data"), "demo", "--members", "50", "--days", "30",
        env={"PYTHONIOENCODING": "cp936"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode("gbk", errors="replace")
    out = result.stdout.decode("gbk")  # every byte is valid GBK
    assert "50 members" in out and "￥" in out and "¥" not in out
    assert "\\xa5" not in out + result.stderr.decode("gbk")


def test_a_stream_without_a_character_gets_a_look_alike_or_a_question_mark(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="cp936")
    monkeypatch.setattr(sys, "stdout", stream)
    monkeypatch.setattr(sys, "stderr", io.TextIOWrapper(io.BytesIO(), encoding="ascii"))
    make_console_safe()
    print("¥12.50 张三 ☃", file=stream)
    print("¥12.50 张三 ☃", file=sys.stderr)
    stream.flush()
    sys.stderr.flush()
    assert raw.getvalue().decode("gbk") == "￥12.50 张三 ?\n"
    assert sys.stderr.buffer.getvalue() == b"?12.50 ?? ?\n"  # type: ignore[attr-defined]


def test_an_unexpected_error_after_a_commit_does_not_claim_nothing_was_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fails_after_writing(_args: object) -> int:
        raise RuntimeError("printer cable pulled")

    monkeypatch.setitem(main.COMMANDS, "demo", fails_after_writing)
    try:
        assert main.main(["--data-dir", str(tmp_path), "demo"]) == 1
    finally:
        for handler in logging.getLogger("memberdesk").handlers[:]:
            logging.getLogger("memberdesk").removeHandler(handler)
            handler.close()
    err = capsys.readouterr().err
    assert "printer cable pulled" in err
    assert "nothing half-written was kept" not in err
    assert "what was finished before the error is kept" in err
