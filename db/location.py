"""Where a data folder keeps its store: the SQLite file's name and the chain server's address saved at the first run.
No SQLAlchemy here: the GUI asks whether a PC has a store before it loads any database library."""

from __future__ import annotations

import os
from pathlib import Path

SQLITE_FILENAME = "memberdesk.sqlite3"
SAVED_URL_FILENAME = "database.url"


def saved_database_url(data_dir: Path) -> str | None:
    try:
        saved = (data_dir / SAVED_URL_FILENAME).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return saved or None


def save_database_url(data_dir: Path, url: str) -> None:
    """Kept readable by this account only where POSIX permissions apply (the address may hold a password)."""
    path = data_dir / SAVED_URL_FILENAME
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(url + "\n")
