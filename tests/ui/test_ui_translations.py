"""Every string a user can see has a finished Chinese translation, and the shipped .qm is built from the .ts."""

from __future__ import annotations

import importlib.util
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "resources" / "translations"
UNDONE = ("unfinished", "vanished", "obsolete")


def load_update_ts() -> ModuleType:
    spec = importlib.util.spec_from_file_location("update_ts", TRANSLATIONS / "update_ts.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def messages(ts_file: Path) -> dict[tuple[str, str], ET.Element | None]:
    found: dict[tuple[str, str], ET.Element | None] = {}
    for context in ET.parse(ts_file).getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            found[(name, message.findtext("source") or "")] = message.find("translation")
    return found


@pytest.fixture(scope="module")
def update_ts() -> ModuleType:
    return load_update_ts()


@pytest.fixture(scope="module")
def refreshed(update_ts: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed .ts brought up to date with today's sources, in a scratch copy."""
    ts_file = tmp_path_factory.mktemp("ts") / "memberdesk_zh_CN.ts"
    shutil.copyfile(update_ts.TS_FILE, ts_file)
    update_ts.update_ts(ts_file)
    return ts_file


def test_every_source_string_has_a_finished_translation(refreshed: Path) -> None:
    lacking = [
        f"{context}: {source!r}"
        for (context, source), translation in messages(refreshed).items()
        if translation is None or translation.get("type") in UNDONE or not translation.text
    ]
    assert not lacking, "run resources/translations/update_ts.py and translate:\n" + "\n".join(lacking)


def test_the_committed_ts_lists_exactly_the_source_strings(update_ts: ModuleType, refreshed: Path) -> None:
    assert set(messages(refreshed)) == set(messages(update_ts.TS_FILE)), "run resources/translations/update_ts.py"


def test_app_strings_marked_through_an_alias_are_collected(update_ts: ModuleType) -> None:
    strings = update_ts.app_strings(update_ts.python_files(ROOT / "app"))
    assert ("Errors", "Member not found.") in strings  # marked as S(...) after `import QT_TRANSLATE_NOOP as S`
    assert ("Settings", "Store name") in strings  # marked through `S = QT_TRANSLATE_NOOP`


def test_placeholders_survive_translation() -> None:
    import re

    fields = re.compile(r"\{[^{}]*\}")
    wrong = [
        f"{context}: {source!r} -> {translation.text!r}"
        for (context, source), translation in messages(TRANSLATIONS / "memberdesk_zh_CN.ts").items()
        if translation is not None and sorted(fields.findall(source)) != sorted(fields.findall(translation.text or ""))
    ]
    assert not wrong, "\n".join(wrong)


def test_the_committed_qm_is_built_from_the_committed_ts(update_ts: ModuleType, tmp_path: Path) -> None:
    built = tmp_path / "memberdesk_zh_CN.qm"
    update_ts.release(update_ts.TS_FILE, built)
    assert built.read_bytes() == update_ts.QM_FILE.read_bytes(), "run resources/translations/update_ts.py --qm-only"
