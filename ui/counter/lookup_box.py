"""The lookup box: where the counter's focus lives. It keeps the keys that move through the pick-list, and tells a
barcode scanner (a keyboard that types a whole code in a burst and presses Enter) from a person typing."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit, QWidget

from ui.signals import emit

SCAN_KEY_GAP_S = 0.030
"""Scanners type a character every few milliseconds; people need 80 ms or more."""
SCAN_MIN_CHARS = 6
"""The shortest code we scan (card numbers are 6 to 20 characters)."""

_MOVES = {
    Qt.Key.Key_Up: -1,
    Qt.Key.Key_Down: 1,
    Qt.Key.Key_PageUp: -10,
    Qt.Key.Key_PageDown: 10,
}
_MODIFIERS = {Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Meta, Qt.Key.Key_CapsLock}


class ScanDetector:
    """Counts the burst of fast keystrokes that produced the box's text."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last: float | None = None
        self._burst = 0

    def key(self) -> None:
        now = self._clock()
        fast = self._last is not None and now - self._last <= SCAN_KEY_GAP_S
        self._burst = self._burst + 1 if fast else 1
        self._last = now

    def reset(self) -> None:
        self._last = None
        self._burst = 0

    def is_scan(self, text_length: int) -> bool:
        """Enter came right after a burst of at least SCAN_MIN_CHARS keys that typed the whole text."""
        if self._last is None:
            return False
        prompt = self._clock() - self._last <= 2 * SCAN_KEY_GAP_S
        return prompt and self._burst >= max(SCAN_MIN_CHARS, text_length)


class LookupBox(QLineEdit):
    move_selection = Signal(int)
    """Rows to move the pick-list's selection by; the focus stays here."""
    submitted = Signal(bool)
    """Enter; True when it ended a scanner's burst."""
    escaped = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lookupBox")
        self.setClearButtonEnabled(True)
        self.scan = ScanDetector()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = Qt.Key(event.key())
        if key in _MOVES:
            emit(self.move_selection, _MOVES[key])
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            scan = self.scan.is_scan(len(self.text()))
            self.scan.reset()
            emit(self.submitted, scan)
        elif key == Qt.Key.Key_Escape:
            self.scan.reset()
            emit(self.escaped)
        else:
            super().keyPressEvent(event)
            if event.text() and event.text().isprintable():
                self.scan.key()
            elif key not in _MODIFIERS:  # a scanner sends Shift for capitals; an edit key means a person
                self.scan.reset()
