"""A rotating log file in the data folder, per-area loggers under `memberdesk.*`.

The GUI and the command line write separate files: Windows cannot rename a log file another process holds open,
so with one shared file the rotation of one program failed and lost the other's lines. Two command-line programs
may still run at once (a scheduled backup during an import): their rotation waits until it can rename the file
(`PatientRotatingFileHandler`), so no line is lost and no backup is shifted in vain."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

GUI_LOG = "memberdesk.log"
CLI_LOG = "memberdesk-cli.log"


class PatientRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Rotates only when the current file can be renamed. The standard handler shifts the backups first and then
    fails on a file another program holds open (Windows refuses the rename), losing the line and printing a
    traceback to the console; this one tries the rename first and, refused, goes on writing to the same file and
    tries again at the next line."""

    def doRollover(self) -> None:
        if self.stream:
            self.stream.close()
            self.stream = None
        if self.backupCount == 0:
            self.stream = self._open()
            return
        rotating = f"{self.baseFilename}.rotating"
        try:
            os.replace(self.baseFilename, rotating)
        except FileNotFoundError:
            pass
        except OSError:
            self.stream = self._open()
            return
        else:
            for number in range(self.backupCount - 1, 0, -1):
                older = self.rotation_filename(f"{self.baseFilename}.{number}")
                if os.path.exists(older):
                    os.replace(older, self.rotation_filename(f"{self.baseFilename}.{number + 1}"))
            os.replace(rotating, self.rotation_filename(f"{self.baseFilename}.1"))
        self.stream = self._open()


def setup_logging(log_dir: Path, file_name: str = GUI_LOG, *, level: int = logging.INFO, console: bool = False) -> Path:
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / file_name
    root = logging.getLogger("memberdesk")
    root.setLevel(level)
    if not any(isinstance(h, logging.handlers.RotatingFileHandler) for h in root.handlers):
        handler = PatientRotatingFileHandler(path, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"))
        root.addHandler(handler)
    if console and not any(type(h) is logging.StreamHandler for h in root.handlers):
        stream = logging.StreamHandler()
        stream.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        stream.setLevel(logging.WARNING)
        root.addHandler(stream)
    return path
