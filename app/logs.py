"""A rotating log file in the data folder, per-area loggers under `memberdesk.*`.

The GUI and the command line write separate files: Windows cannot rename a log file another process holds open,
so with one shared file the rotation of one program failed and lost the other's lines."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

GUI_LOG = "memberdesk.log"
CLI_LOG = "memberdesk-cli.log"


def setup_logging(log_dir: Path, file_name: str = GUI_LOG, *, level: int = logging.INFO, console: bool = False) -> Path:
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / file_name
    root = logging.getLogger("memberdesk")
    root.setLevel(level)
    if not any(isinstance(h, logging.handlers.RotatingFileHandler) for h in root.handlers):
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"))
        root.addHandler(handler)
    if console and not any(type(h) is logging.StreamHandler for h in root.handlers):
        stream = logging.StreamHandler()
        stream.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        stream.setLevel(logging.WARNING)
        root.addHandler(stream)
    return path
