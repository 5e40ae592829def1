"""Emitting from Python must not eat references to True (PySide6 6.12.0's SignalInstance.emit does; see
ui/signals.py): the counter emits several signals per keystroke and would abort within minutes."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal

from ui.signals import emit


class Source(QObject):
    plain = Signal()
    flag = Signal(bool)


def test_emitting_keeps_true_alive(qtbot: object) -> None:
    source = Source()
    seen: list[bool] = []
    source.flag.connect(seen.append)
    before = sys.getrefcount(True)
    for _ in range(2000):
        emit(source.plain)
        emit(source.flag, True)
    seen.clear()
    assert abs(sys.getrefcount(True) - before) < 10, "4,000 emits; a leak would show as a drop of 4,000"
