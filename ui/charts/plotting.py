"""pyqtgraph for every chart of the program (imported when a chart is first shown, never at start-up).

pyqtgraph emits its own signals from Python on every range change, resize and repaint, and PySide6 6.12.0's emit
takes a reference from `True` each time (see ui/signals.py, which fixes our own emits): a chart on screen would abort
the interpreter within minutes. pyqtgraph's emits cannot be wrapped, so where the running PySide6 has the fault
`True` is given spare references once (ui/signals.py does the same for None, which every void call loses).
Import pyqtgraph from here, never directly.
"""

from __future__ import annotations

import pyqtgraph as pg

from ui.signals import EMIT_LOSES_TRUE, give_spare_references

if EMIT_LOSES_TRUE:
    give_spare_references(True)

__all__ = ["pg"]
