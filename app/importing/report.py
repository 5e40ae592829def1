"""What an import says when it is done, or when it stops part-way: every row accounted for (imported, already there,
or refused with its line and reason), and after a failure exactly what was committed before it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from app.errors import MemberDeskError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate

log = logging.getLogger("memberdesk.importing")
BATCH = 20_000
"""Rows a transaction (without all-or-nothing)."""
T = TypeVar("T")


@dataclass(frozen=True)
class RefusedRow:
    line: int
    reason: str


@dataclass
class ImportReport:
    imported: int = 0
    already_there: int = 0
    refused: list[RefusedRow] = field(default_factory=list)
    rolled_back: bool = False
    rows: int = 0
    """Rows read from the file (each is imported, already there or refused)."""

    def add(self, batch: ImportReport) -> None:
        """Count a batch once its transaction is committed."""
        self.imported += batch.imported
        self.already_there += batch.already_there
        self.refused.extend(batch.refused)
        self.rows += batch.rows

    def summary(self) -> str:
        text = translate("Import", S("Import", "{imported} imported, {already} already there, {refused} refused"))
        line = text.format(imported=self.imported, already=self.already_there, refused=len(self.refused))
        if self.rolled_back:
            line += " — " + translate("Import", S("Import", "nothing was imported (all or nothing)"))
        return line


class ImportCancelled(MemberDeskError):
    pass


class ImportStopped(MemberDeskError):
    """An import that failed part-way for a reason no row is to blame for (the database went away, the disk is
    full, Ctrl+C): the message says what was committed before it, and the report holds it."""

    def __init__(self, message: str, report: ImportReport, **params: object) -> None:
        super().__init__(message, **params)
        self.report = report

    def __reduce__(self) -> tuple[type[ImportStopped], tuple[str, ImportReport], dict[str, object]]:
        """Whole, with its parameters, when it crosses from an import's own process (app/jobs.py)."""
        return (ImportStopped, (self.message, self.report), self.__dict__)


@contextmanager
def stopped_on_failure(report: ImportReport) -> Iterator[None]:
    """Turn an unexpected failure into ImportStopped naming what was committed. The traceback goes to the log file
    only (logged below the console's level): a console never shows SQL."""
    try:
        yield
    except MemberDeskError:
        raise
    except (Exception, KeyboardInterrupt) as exc:
        log.info("import stopped after %d committed rows", report.rows, exc_info=True)
        if report.rolled_back or not report.rows:
            raise ImportStopped(
                S("Errors", "The import stopped ({reason}); nothing was imported."), report, reason=type(exc).__name__
            ) from exc
        raise ImportStopped(
            S(
                "Errors",
                "The import stopped ({reason}) after {rows} rows of the file were committed: {imported} imported, "
                "{already} already there, {refused} refused. Importing the file again adds the rest.",
            ),
            report,
            reason=type(exc).__name__,
            rows=report.rows,
            imported=report.imported,
            already=report.already_there,
            refused=len(report.refused),
        ) from exc


def batched(rows: Iterator[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
