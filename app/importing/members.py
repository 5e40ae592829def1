"""`members import`: reading the file (tables.py), judging its rows (member_rows.py) and writing them
(member_store.py), a batch a transaction.

Import rules: every row is validated like a registration at the counter; a refused row is reported by its line number
with the reason and changes nothing. By default the valid rows are imported (a batch a transaction); with
all-or-nothing one transaction holds the whole file and is rolled back if any row is refused. A row whose member number
is already in the store (or, without a member number, whose phone belongs to a member of the same name) is counted as
already imported, so the same file imported twice creates nothing twice. Opening points become an `import` ledger
entry and a lot. A failure no row is to blame for stops the import with ImportStopped, which says exactly what
was committed before it.

How a million rows fit in docs/ARCHITECTURE.md's 40 s (bench/bench_import.py; 113 s before these):
- RowParser validates in a forked worker process (where there is one) while this process inserts the batch before;
  batches cross as plain tuples, already in the form the driver takes.
- The rows go in with the driver's executemany (db.bulk), through a connection with a big page cache, and the
  duplicate checks ask the driver directly instead of compiling 20,000-value IN lists.
- client UUIDs are UUIDv7 in increasing order, appended to their unique indexes instead of scattered over them.
- A big file (BULK_ROWS) is loaded with the non-unique indexes of the tables it fills dropped, and they are built
  again at the end; the unique ones stay, as the duplicate checks need them. Which indexes are down is recorded in
  the same transaction, so an import killed half-way is mended by the next import or `main.py db upgrade`, and
  `main.py db check` reports it meanwhile. Lookups by name or last 4 digits are slow at the counters while a big
  import runs: big imports are for moving a store in, not for opening hours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing
from functools import partial
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import Clock
from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate
from app.importing.member_rows import ParsedBatch, RowParser
from app.importing.member_store import BatchWriter
from app.importing.report import BATCH, ImportCancelled, ImportReport, stopped_on_failure
from app.importing.tables import MEMBER_COLUMNS, read_table
from app.security.crypto import FieldCipher
from app.security.operator import Operator, require_role
from app.settings import read_settings
from app.trust.audit import record_audit
from app.workers import fork_helps, in_child
from db.bulk import drop_indexes, restore_indexes
from db.engine import Database
from db.enums import StaffRole
from db.models import Tier

Progress = Callable[[int, int, str], bool]
BULK_ROWS = 100_000
"""From this many rows on, the secondary indexes of BULK_TABLES are dropped for the import and built again after
it (unique ones stay: the duplicate checks use them). 1M members: 24 s of member inserts become about 8."""
BULK_TABLES = ("members", "points_ledger", "points_lots", "member_tags")
WORKER_ROWS = 50_000
"""From this many rows on (as counted before reading), a forked worker validates while this process inserts."""


class MemberImporter:
    def __init__(self, db: Database, operator: Operator, clock: Clock, cipher: FieldCipher) -> None:
        self.db = db
        self.operator = operator
        self.clock = clock
        self.cipher = cipher

    def run(self, path: Path, *, all_or_nothing: bool = False, progress: Progress | None = None) -> ImportReport:
        """Validation runs a batch ahead of the inserts, in a second process where there is one; the inserts go
        through a connection with a big page cache (see Database.bulk_loader)."""
        require_role(self.operator, StaffRole.MANAGER)
        table = read_table(path, MEMBER_COLUMNS)
        settings = self.db.read(read_settings)
        tiers = self.db.read(lambda s: list(s.scalars(select(Tier).order_by(Tier.rank))))
        now = self.clock.now()
        parser = RowParser(settings, tiers, now, self.cipher, sqlite=self.db.is_sqlite)
        writer = BatchWriter(self.operator, settings, now, sqlite=self.db.is_sqlite)
        ticker = _Ticker(progress, table.size_hint)
        report = ImportReport()
        use_worker = table.size_hint >= WORKER_ROWS and fork_helps()
        batches = in_child(partial(parser.batches, table.rows, BATCH), "member-import") if use_worker else None
        with (
            stopped_on_failure(report),
            closing(batches or parser.batches(table.rows, BATCH)) as parsed,
            self.db.bulk_loader() as loader,
        ):
            loader.write(lambda session: restore_indexes(session.connection()))  # left down by a killed import
            big = table.size_hint >= BULK_ROWS
            if big:
                loader.write(lambda session: drop_indexes(session.connection(), BULK_TABLES, unique_too=False))
            try:
                self._load(loader, parsed, writer, report, ticker, all_or_nothing)
            finally:
                if big:
                    ticker.building_indexes(loader)
        report.refused.sort(key=lambda refused: refused.line)
        self.db.write(
            lambda session: record_audit(
                session,
                self.operator,
                "import",
                "members",
                None,
                {
                    "file": path.name,
                    "imported": report.imported,
                    "already": report.already_there,
                    "refused": len(report.refused),
                    "rolled_back": report.rolled_back,
                },
            )
        )
        return report

    @staticmethod
    def _load(
        loader: Database,
        parsed: Iterator[ParsedBatch],
        writer: BatchWriter,
        report: ImportReport,
        ticker: _Ticker,
        all_or_nothing: bool,
    ) -> None:
        """A transaction a batch, or with all-or-nothing one for the whole file, undone if any row was refused."""
        if not all_or_nothing:
            for batch in parsed:
                report.add(loader.write(partial(writer.store, batch=batch)))
                ticker.tick(batch.rows)
            return
        whole = ImportReport()

        def everything(session: Session) -> None:
            for batch in parsed:
                whole.add(writer.store(session, batch))
                ticker.tick(batch.rows)
            if whole.refused:
                raise _RollBack

        try:
            loader.write(everything)
        except _RollBack:
            whole.imported = 0
            whole.rolled_back = True
        except BaseException:
            report.rolled_back = True
            raise
        report.add(whole)
        report.rolled_back = whole.rolled_back


class _Ticker:
    """Reports rows read against the rows the file seemed to have; a progress callback answering False cancels."""

    def __init__(self, progress: Progress | None, expected: int) -> None:
        self.progress = progress
        self.expected = expected
        self.done = 0
        self.what = translate("Import", S("Import", "Members"))

    def tick(self, rows: int) -> None:
        self.done += rows
        if self.progress is not None and not self.progress(self.done, max(self.done, self.expected), self.what):
            raise ImportCancelled(S("Errors", "Import cancelled; rows already committed stay imported."))

    def building_indexes(self, loader: Database) -> None:
        """The indexes dropped for a big file built again; not to be cancelled (lookups need them)."""
        what = translate("Import", S("Import", "Building lookup indexes"))
        if self.progress is not None:
            self.progress(0, 1, what)
        loader.write(lambda session: restore_indexes(session.connection()))
        if self.progress is not None:
            self.progress(1, 1, what)


class _RollBack(Exception):
    """Raised inside the all-or-nothing transaction to undo it after the refusals were counted."""
