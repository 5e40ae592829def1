"""Write `tests/data/segments_golden.json.gz`: what the segment refresh gives on the shifted CDNOW histories (see
tests/services/test_segments_golden.py). Written once, on main at aecaf9c (before the refresh's speed work), and
committed; rerunning it on later code would only copy that code's answers.

    .venv/bin/python tests/data/make_segments_golden.py
"""

from __future__ import annotations

import gzip
import json
import sys
import tempfile
from pathlib import Path

DATA = Path(__file__).resolve().parent
sys.path.insert(0, str(DATA.parent.parent))

from app.bootstrap import ensure_store  # noqa: E402
from app.clock import FixedClock  # noqa: E402
from app.context import Store  # noqa: E402
from app.paths import DataPaths  # noqa: E402
from app.security.crypto import FieldCipher  # noqa: E402
from db.engine import Database, sqlite_url  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from tests.services.conftest import START  # noqa: E402
from tests.services.test_segments_golden import GOLDEN, snapshot  # noqa: E402
from tests.staff_support import add_counter_staff  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Database(sqlite_url(Path(folder) / "golden.sqlite3"))
        upgrade(db)
        ensure_store(db)
        paths = DataPaths(Path(folder) / "data").ensure()
        store = Store(paths, db, FieldCipher.from_key_file(paths.key_file), FixedClock(START))
        add_counter_staff(store)
        found = snapshot(store, store.services(store.operator("owner")), Path(folder))
        db.dispose()
    with gzip.open(GOLDEN, "wt", encoding="utf-8") as fh:
        json.dump(found, fh, ensure_ascii=False, sort_keys=True)
    print(GOLDEN, len(found["stored"]), "members")


if __name__ == "__main__":
    main()
