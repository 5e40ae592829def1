"""Scratch PDFs for the print preview, in the data folder's `printouts/`: written where the program may always write,
removed when their preview closes; what a crash left behind is cleared the next time something is printed. Plain
files and paths only (no ReportLab here), so a job's own process writes them as the GUI would (app/jobs.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

FOLDER = "printouts"
LEFTOVER_SECONDS = 24 * 60 * 60


def scratch_pdf(data_root: Path, kind: str, write: Callable[[Path], object]) -> Path:
    """A new PDF written by `write`; a half-written one is removed before the error goes on."""
    folder = data_root / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    stale = time.time() - LEFTOVER_SECONDS
    for old in folder.glob("*.pdf"):
        if old.stat().st_mtime < stale:
            old.unlink(missing_ok=True)
    path = folder / f"{kind}-{uuid.uuid4().hex}.pdf"
    try:
        write(path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path
