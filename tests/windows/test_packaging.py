"""Finding 11: the icon, the installer's promises, separate logs for the two programs and a rotation that waits for
the other program of the same kind to let go of the file."""

from __future__ import annotations

import logging
import os
import re
import struct
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from app.logs import CLI_LOG, GUI_LOG, PatientRotatingFileHandler
from tests.windows.support import ROOT, run_main

ICO = ROOT / "resources" / "icons" / "memberdesk.ico"
INSTALLER = ROOT / "packaging" / "windows" / "installer.iss"


def ico_images(data: bytes) -> dict[int, QImage]:
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind) == (0, 1), "not an icon file"
    images = {}
    for number in range(count):
        width, _height, _colours, _zero, _planes, _bits, size, offset = struct.unpack_from(
            "<BBBBHHII", data, 6 + 16 * number
        )
        image = QImage.fromData(data[offset : offset + size])
        assert not image.isNull()
        images[width or 256] = image
    return images


def test_the_icon_has_every_size_windows_asks_for_drawn_from_the_svg() -> None:
    images = ico_images(ICO.read_bytes())
    assert {16, 24, 32, 48, 256} <= set(images)
    for size, image in images.items():
        assert image.width() == size
    card_blue = images[256].pixelColor(128, 60)
    assert (card_blue.red(), card_blue.green(), card_blue.blue()) == (0x15, 0x65, 0xC0)  # the SVG's #1565c0


def test_the_spec_uses_the_icon_and_the_pyproject_version() -> None:
    spec = (ROOT / "packaging" / "memberdesk.spec").read_text(encoding="utf-8")
    assert 'ICON = ROOT / "resources" / "icons" / "memberdesk.ico"' in spec
    assert "windows_version_info(name)" in spec and 'PROJECT["version"]' in spec
    assert tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def iss_section(name: str) -> str:
    text = INSTALLER.read_text(encoding="utf-8")
    match = re.search(rf"^\[{name}\]\n(.*?)(?=^\[|\Z)", text, re.M | re.S)
    assert match, name
    return match.group(1)


def test_the_installer_is_per_machine_windows_10_and_speaks_chinese_first() -> None:
    setup = iss_section("Setup")
    assert re.search(r"^MinVersion=10\.0", setup, re.M)
    assert re.search(r"^PrivilegesRequired=admin$", setup, re.M)
    assert "PrivilegesRequiredOverridesAllowed" not in setup
    assert re.search(r"^SetupIconFile=.*memberdesk\.ico$", setup, re.M)
    languages = [line for line in iss_section("Languages").splitlines() if line.startswith("Name:")]
    assert languages[0].startswith('Name: "chinesesimplified"')
    assert "#if" not in iss_section("Languages")  # never silently English-only


def test_the_installer_never_touches_the_data_and_shares_one_store_for_the_pc() -> None:
    text = INSTALLER.read_text(encoding="utf-8")
    dirs = iss_section("Dirs")
    assert "{commonappdata}\\{#AppName}" in dirs and "users-modify" in dirs and "uninsneveruninstall" in dirs
    assert "all-users.txt" in iss_section("Files")
    assert "[UninstallDelete]" not in text and "{localappdata}" not in text.lower()
    assert "{commonprograms}" in text or "{group}" in iss_section("Icons")


@pytest.fixture
def _no_log_handlers() -> Iterator[None]:
    yield
    for handler in logging.getLogger("memberdesk").handlers[:]:
        logging.getLogger("memberdesk").removeHandler(handler)
        handler.close()


@pytest.mark.usefixtures("_no_log_handlers")
def test_the_command_line_and_the_gui_write_separate_logs(tmp_path: Path) -> None:
    assert CLI_LOG != GUI_LOG
    assert run_main("--data-dir", str(tmp_path), "db", "check").returncode == 0
    logs = {path.name for path in (tmp_path / "logs").iterdir()}
    assert CLI_LOG in logs and GUI_LOG not in logs


def test_a_log_another_program_holds_open_is_rotated_later_and_loses_no_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two command-line programs at once (a scheduled backup during an import): Windows refuses to rename the log
    while the other holds it open, played here by refusing the rename of that file."""
    path = tmp_path / CLI_LOG
    (tmp_path / f"{CLI_LOG}.1").write_text("yesterday\n", encoding="utf-8")
    held_open = True

    def refused(rename: Callable[[str, str], None]) -> Callable[[str, str], None]:
        def attempt(src: str, dst: str) -> None:
            if held_open and os.fspath(src) == str(path):
                raise PermissionError(13, "The process cannot access the file: it is used by another process", src)
            rename(src, dst)

        return attempt

    monkeypatch.setattr(os, "rename", refused(os.rename))
    monkeypatch.setattr(os, "replace", refused(os.replace))
    handler = PatientRotatingFileHandler(path, maxBytes=300, backupCount=3, encoding="utf-8")
    logger = logging.getLogger("memberdesk.test_rotation")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        for number in range(20):
            logger.info("收银 line %02d", number)
        assert "Logging error" not in capsys.readouterr().err
        written = path.read_text(encoding="utf-8")
        assert all(f"收银 line {number:02d}" in written for number in range(20)), "no line lost"
        assert (tmp_path / f"{CLI_LOG}.1").read_text(encoding="utf-8") == "yesterday\n", "no backup shifted in vain"
        assert not (tmp_path / f"{CLI_LOG}.2").exists()
        held_open = False  # the other program has ended
        logger.info("收银 line 20")
    finally:
        logger.removeHandler(handler)
        handler.close()
    assert "收银 line 19" in (tmp_path / f"{CLI_LOG}.1").read_text(encoding="utf-8")
    assert (tmp_path / f"{CLI_LOG}.2").read_text(encoding="utf-8") == "yesterday\n"
    assert path.read_text(encoding="utf-8") == "收银 line 20\n"
