"""Tables a screen shows (the complaint analysis, survey results, charts), saved as CSV or XLSX: written beside the
destination and moved into place, then audited as an `export` like every other export (issue 9)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from app.errors import ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.importing.tables import write_table
from app.security.operator import Operator
from app.trust.audit import record_export
from db.engine import Database

TableData = tuple[Sequence[str], Iterable[Sequence[object]]]


def write_atomically(path: Path, columns: list[str], rows: Iterator[list[object]]) -> int:
    """A table written beside its destination and moved there: a failure leaves no half file."""
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".part-", suffix=path.suffix)
    os.close(handle)
    try:
        count = write_table(Path(temp), columns, rows)
        os.replace(temp, path)
        return count
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


class TableExportService:
    def __init__(self, db: Database, operator: Operator) -> None:
        self.db = db
        self.operator = operator

    def save(self, path: Path, entity: str, table: TableData) -> int:
        """Write `table` (its columns and rows) to `path` (CSV, or XLSX by its suffix) and audit it under `entity`;
        returns the rows written. A file that cannot be written (a read-only folder, a full disk, the file open in
        Excel on Windows) is refused with its reason, and nothing is audited."""
        columns, rows = table
        try:
            count = write_atomically(path, list(columns), (list(row) for row in rows))
        except OSError as exc:
            raise ValidationError(
                S("Errors", "{path} could not be written: {reason}"), path=str(path), reason=exc.strerror or str(exc)
            ) from exc
        record_export(self.db, self.operator, entity, path, count)
        return count
