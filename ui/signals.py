"""Emitting Qt signals from Python without slowly killing the interpreter.

PySide6 6.12.0's `SignalInstance.emit()` returns `True` without taking a reference to it, so every emit from Python
takes one reference from `True`; after a few hundred emits `True`'s count reaches zero and CPython aborts
("bool_dealloc: deallocating True or False"). The counter emits several signals per keystroke, so this would end the
program within minutes. Every emit in `ui/` goes through `emit()` below, which gives the reference back when (and
only when) a probe at import shows the running PySide6 has the fault; a fixed PySide6 makes it a plain emit.
Signals emitted by Qt itself (clicked, timeout…) are not affected.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

_PROBE_EMITS = 8
_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = [ctypes.py_object]
_incref.restype = None


class _Probe(QObject):
    fired = Signal()


def _emit_loses_true() -> bool:
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(_PROBE_EMITS):
        probe.fired.emit()
    lost = before - sys.getrefcount(True)
    for _ in range(max(0, lost)):
        _incref(True)
    return lost == _PROBE_EMITS


EMIT_LOSES_TRUE = _emit_loses_true()

SPARE_REFERENCES = 1 << 60
"""References given once to an object a PySide6 fault keeps taking from (about what Python 3.12 does by making
None, True and False immortal): no program runs long enough to use them up."""


def give_spare_references(obj: object) -> None:
    ctypes.c_ssize_t.from_address(id(obj)).value += SPARE_REFERENCES


def _void_call_loses_none() -> bool:
    """PySide6 6.12.0 on Python 3.11 returns None from every void method (`QLabel.setText`, `QGraphicsItem.update`)
    without taking a reference to it: a few thousand calls and CPython aborts ("none_dealloc"). Python calls them
    everywhere, pyqtgraph hundreds of times a repaint, so None gets spare references once where this happens."""
    probe = _Probe()
    before = sys.getrefcount(None)
    for _ in range(_PROBE_EMITS):
        probe.setObjectName("probe")
    lost = before - sys.getrefcount(None)
    for _ in range(max(0, lost)):
        _incref(None)
    return lost == _PROBE_EMITS


VOID_CALL_LOSES_NONE = _void_call_loses_none()
if VOID_CALL_LOSES_NONE:
    give_spare_references(None)


def emit(signal: SignalInstance, *args: Any) -> None:
    """`signal.emit(*args)`, with the reference PySide6 6.12.0 takes from `True` given back."""
    returned = signal.emit(*args)  # type: ignore[func-returns-value]  # the type hints say None; 6.12.0 returns True
    if returned is True and EMIT_LOSES_TRUE:
        _incref(True)
