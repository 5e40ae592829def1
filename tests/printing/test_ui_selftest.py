from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from app.printing.selftest import write_selftest_pdf
from ui.selftest import check_pdf, grab_window_png


@pytest.fixture
def selftest_pdf(tmp_path: Path) -> tuple[Path, list[str]]:
    path = tmp_path / "selftest.pdf"
    return path, list(write_selftest_pdf(path).texts)


def test_good_pdf_has_no_problems(qtbot: QtBot, selftest_pdf: tuple[Path, list[str]]) -> None:
    path, texts = selftest_pdf
    assert check_pdf(path, texts) == []


def test_missing_text_is_reported(qtbot: QtBot, selftest_pdf: tuple[Path, list[str]]) -> None:
    path, texts = selftest_pdf
    problems = check_pdf(path, [*texts, "王五不在这里"])
    assert len(problems) == 1 and "王五不在这里" in problems[0]


def test_unembedded_chinese_is_reported(qtbot: QtBot, tmp_path: Path) -> None:
    """The trap PLATFORM.md describes: the text extracts fine but shows as boxes on a PC without Chinese fonts."""
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    path = tmp_path / "cid.pdf"
    canvas = Canvas(str(path), pagesize=A4)
    canvas.setFont("STSong-Light", 20)
    canvas.drawString(100, 700, "会员台 自检")
    canvas.save()
    problems = check_pdf(path, ["会员台 自检"])
    assert len(problems) == 1 and "embedded" in problems[0]


def test_blank_page_is_reported(qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "blank.pdf"
    canvas = Canvas(str(path), pagesize=A4)
    canvas.showPage()
    canvas.save()
    problems = check_pdf(path, [])
    assert len(problems) == 1 and "blank" in problems[0]


@pytest.mark.parametrize("content", [None, b"%PDF-1.4 this is not really a PDF"])
def test_unreadable_file_is_reported(qtbot: QtBot, tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "broken.pdf"
    if content is not None:
        path.write_bytes(content)
    problems = check_pdf(path, ["会员台"])
    assert len(problems) == 1 and "cannot be opened" in problems[0]


def test_window_grab_of_a_real_window(qtbot: QtBot, tmp_path: Path) -> None:
    label = QLabel("会员台 自检 张三")
    qtbot.addWidget(label)
    label.resize(320, 200)
    label.show()
    path = tmp_path / "window.png"
    assert grab_window_png(label, path) == []
    assert path.stat().st_size > 0


def test_window_grab_catches_an_empty_or_tiny_window(qtbot: QtBot, tmp_path: Path) -> None:
    empty = QWidget()
    qtbot.addWidget(empty)
    empty.setStyleSheet("background: white")
    empty.resize(320, 200)
    problems = grab_window_png(empty, tmp_path / "empty.png")
    assert len(problems) == 1 and "single colour" in problems[0]

    tiny = QLabel("张")
    qtbot.addWidget(tiny)
    tiny.resize(30, 20)
    problems = grab_window_png(tiny, tmp_path / "tiny.png")
    assert any("30×20" in problem for problem in problems)
