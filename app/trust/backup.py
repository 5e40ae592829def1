"""Backups and restores of the store.

SQLite: SQLite's online backup API copies the live file page by page (safe while counters write; WAL included);
each copy is then opened on its own and verified (integrity check, schema version, the store's identity). A restore
checks the file the same way, backs up the current state first, then copies the file into the live database and
migrates it if it is older. PostgreSQL: `pg_dump` when it is installed; the server itself is backed up by its
administrator (README).

Automatic backups: one a day, kept 7 days, the last of each of 4 weeks and of 12 months (grandfather-father-son).
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.changes import Changes
from app.clock import Clock
from app.errors import MemberDeskError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.paths import DataPaths
from app.security.crypto import FieldCipher
from app.security.operator import Operator, require_role
from app.trust.audit import record_audit
from db.engine import Database
from db.enums import StaffRole
from db.migrate import alembic_config, head_revision, upgrade
from db.models import Member, Sale, Setting

log = logging.getLogger("memberdesk.backup")

STORE_ID_KEY = "store.id"
"""A setting no screen shows: the store's identity, so a restore can tell this store's backups from another's."""
AUTO_FOLDER = "auto"
SUFFIX = ".sqlite3"
KEY_SUFFIX = ".key"
KEEP_DAILY, KEEP_WEEKLY, KEEP_MONTHLY = 7, 4, 12
PAGES_PER_STEP = 256

Progress = Callable[[int, int], None]
"""(pages copied, pages in all)."""


class BackupError(MemberDeskError):
    pass


@dataclass(frozen=True)
class BackupFile:
    """A checked backup: where it is, its size, the store and schema it holds."""

    path: Path
    size: int
    store_id: str | None
    revision: str | None
    members: int
    changes: Changes = Changes.AUDIT


@dataclass(frozen=True)
class RestoreResult:
    restored: BackupFile
    safety_copy: Path
    """The state before the restore, backed up first."""
    changes: Changes = Changes.MEMBERS | Changes.POINTS | Changes.SALES | Changes.SETTINGS | Changes.AUDIT


def store_id(session: Session) -> str:
    """The store's identity, made the first time it is asked for (inside the caller's write transaction)."""
    row = session.get(Setting, STORE_ID_KEY)
    if row is None:
        row = Setting(key=STORE_ID_KEY, value=str(uuid.uuid4()))
        session.add(row)
        session.flush()
    return str(row.value)


def _sqlite_copy(source: Path | sqlite3.Connection, dest: Path, progress: Progress | None) -> None:
    """SQLite's online backup from a file (or an open connection) into `dest`, which is replaced."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    src = source if isinstance(source, sqlite3.Connection) else sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        out = sqlite3.connect(str(partial))
        try:
            src.backup(
                out,
                pages=PAGES_PER_STEP,
                progress=(lambda _status, remaining, total: progress(total - remaining, total)) if progress else None,
            )
            out.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
        finally:
            out.close()
    finally:
        if src is not source:
            src.close()
    partial.replace(dest)


def inspect_backup(path: Path) -> BackupFile:
    """Open a backup file on its own and check it: a SQLite file, undamaged, of a schema this version knows."""
    if not path.is_file():
        raise BackupError(S("Errors", "No such backup file: {path}"), path=str(path))
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = [r[0] for r in conn.execute("PRAGMA integrity_check")]
            if result != ["ok"]:
                raise BackupError(S("Errors", "The backup file is damaged: {detail}"), detail="; ".join(result[:3]))
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            store = conn.execute("SELECT value FROM settings WHERE key = ?", (STORE_ID_KEY,)).fetchone()
            members = conn.execute("SELECT COUNT(*) FROM members").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(
            S("Errors", "{path} is not a MemberDesk backup: {detail}"), path=path.name, detail=str(exc)
        ) from exc
    store_value = None if store is None else str(store[0]).strip('"')
    return BackupFile(path, path.stat().st_size, store_value, revision[0] if revision else None, int(members))


def keep_set(stamps: Iterable[dt.datetime]) -> set[dt.datetime]:
    """Which automatic backups to keep: the newest of each of the last 7 days, 4 ISO weeks and 12 months."""
    newest_first = sorted(set(stamps), reverse=True)
    keep: set[dt.datetime] = set()
    for key, limit in (
        (lambda t: t.date(), KEEP_DAILY),
        (lambda t: t.isocalendar()[:2], KEEP_WEEKLY),
        (lambda t: (t.year, t.month), KEEP_MONTHLY),
    ):
        seen: list[object] = []
        for stamp in newest_first:
            period = key(stamp)
            if period not in seen:
                seen.append(period)
                if len(seen) > limit:
                    break
                keep.add(stamp)
    return keep


def _stamp_of(path: Path) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(path.stem, "auto-%Y%m%d-%H%M%S").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


class BackupService:
    def __init__(self, db: Database, operator: Operator, clock: Clock, paths: DataPaths) -> None:
        self.db = db
        self.operator = operator
        self.clock = clock
        self.backups = paths.backups
        self.key_file = paths.key_file

    def _default_name(self, prefix: str) -> str:
        return f"{prefix}-{self.clock.now().strftime('%Y%m%d-%H%M%S')}"

    def backup(self, dest: Path | None = None, progress: Progress | None = None) -> BackupFile:
        """A verified copy of the store; `dest` is a file or a folder (a USB stick), else the backups folder.
        Managers and owners."""
        require_role(self.operator, StaffRole.MANAGER)
        made = self._backup(dest, progress, "backup")
        if made.path.parent != self.backups and self.key_file.exists():
            # Elsewhere (a USB stick) the copy must be restorable on a new PC: the ID-number key goes beside it.
            shutil.copyfile(self.key_file, made.path.with_suffix(KEY_SUFFIX))
        return made

    def _backup(self, dest: Path | None, progress: Progress | None, action: str) -> BackupFile:
        identity = self.db.write(store_id)
        if self.db.sqlite_path is None:
            return self._pg_dump(dest, action)
        name = self._default_name("memberdesk") + SUFFIX
        target = dest / name if dest is not None and dest.is_dir() else dest or self.backups / name
        self.db.write(lambda s: record_audit(s, self.operator, action, "store", None, {"file": target.name}))
        _sqlite_copy(self.db.sqlite_path, target, progress)
        checked = inspect_backup(target)
        if checked.store_id != identity or checked.revision != head_revision(self.db):
            raise BackupError(S("Errors", "The backup in {path} did not read back as this store."), path=str(target))
        log.info("backup %s: %d bytes, %d members", target, checked.size, checked.members)
        return checked

    def _pg_dump(self, dest: Path | None, action: str) -> BackupFile:
        tool = shutil.which("pg_dump")
        if tool is None:
            raise BackupError(
                S("Errors", "pg_dump is not installed here: back the server up on the server (see README).")
            )
        name = self._default_name("memberdesk") + ".dump"
        target = dest / name if dest is not None and dest.is_dir() else dest or self.backups / name
        target.parent.mkdir(parents=True, exist_ok=True)
        self.db.write(lambda s: record_audit(s, self.operator, action, "store", None, {"file": target.name}))
        url = self.db.url.set(drivername="postgresql").render_as_string(hide_password=False)
        done = subprocess.run(
            [tool, "--format=custom", f"--file={target}", f"--dbname={url}"], capture_output=True, text=True
        )
        if done.returncode != 0:
            raise BackupError(S("Errors", "pg_dump failed: {detail}"), detail=done.stderr.strip()[-300:])
        members = self.db.read(lambda s: s.scalar(select(func.count()).select_from(Member)) or 0)
        return BackupFile(target, target.stat().st_size, None, head_revision(self.db), members)

    def _known(self, revision: str) -> bool:
        try:
            return ScriptDirectory.from_config(alembic_config(self.db)).get_revision(revision) is not None
        except CommandError:
            return False

    def _key_for(self, source: Path) -> bytes:
        """The ID-number key the restored store needs: the one beside the backup, else this store's; refused when
        it cannot read the backup's ID numbers (they would be lost)."""
        beside = source.with_suffix(KEY_SUFFIX)
        key = beside.read_bytes().strip() if beside.is_file() else self.key_file.read_bytes().strip()
        conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            sample = conn.execute(
                "SELECT id_number_enc FROM members WHERE id_number_enc IS NOT NULL LIMIT 1"
            ).fetchone()
        finally:
            conn.close()
        if sample is not None and FieldCipher(key).decrypt(sample[0]) is None:
            raise BackupError(
                S("Errors", "The backup's ID numbers need its key file: put {name} beside the backup."),
                name=beside.name,
            )
        return key

    def restore(self, source: Path, progress: Progress | None = None) -> RestoreResult:
        """Owner only. Refuses a damaged file, a newer schema, or another store's backup (unless this store is still
        empty, as a new PC is); the current state is backed up first."""
        require_role(self.operator, StaffRole.OWNER)
        live = self.db.sqlite_path
        if live is None:
            raise BackupError(
                S("Errors", "A PostgreSQL server is restored with pg_restore on the server (see README).")
            )
        checked = inspect_backup(source)
        if checked.revision is None:
            raise BackupError(S("Errors", "{path} is not a MemberDesk backup."), path=source.name)
        if not self._known(checked.revision):
            raise BackupError(
                S("Errors", "The backup was made by a newer MemberDesk (schema {revision}); update first."),
                revision=checked.revision,
            )

        def identity(session: Session) -> tuple[str, int]:
            return store_id(session), (session.scalar(select(func.count()).select_from(Sale)) or 0) + (
                session.scalar(select(func.count()).select_from(Member)) or 0
            )

        current_id, rows = self.db.write(identity)
        if checked.store_id != current_id and rows:
            raise BackupError(
                S("Errors", "{path} is a backup of another store; this store already has members or sales."),
                path=source.name,
            )
        key = self._key_for(source)
        safety = self._backup(self.backups / (self._default_name("before-restore") + SUFFIX), None, "backup")
        if key != self.key_file.read_bytes().strip():
            shutil.copyfile(self.key_file, safety.path.with_suffix(KEY_SUFFIX))
            self.key_file.write_bytes(key)
        self.db.dispose()
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            out = sqlite3.connect(str(live), timeout=30)
            try:
                src.backup(
                    out,
                    pages=PAGES_PER_STEP,
                    progress=(lambda _s, remaining, total: progress(total - remaining, total)) if progress else None,
                )
            finally:
                out.close()
        finally:
            src.close()
        upgrade(self.db, self.backups)
        if checked.store_id is None:
            self.db.write(lambda s: s.merge(Setting(key=STORE_ID_KEY, value=current_id)))
        self.db.write(
            lambda s: record_audit(
                s,
                self.operator,
                "restore",
                "store",
                None,
                {"file": source.name, "members": checked.members, "safety_copy": safety.path.name},
            )
        )
        log.info("restored %s (safety copy %s)", source, safety.path)
        return RestoreResult(checked, safety.path)

    # ---- automatic ------------------------------------------------------------------------------------------
    def auto_backup(self) -> BackupFile | None:
        """Today's automatic backup, if there is none yet, then the rotation. Any operator's counter may run it
        (it only adds a copy); on PostgreSQL the server's own backups are the rule, so nothing is done."""
        if self.db.sqlite_path is None:
            return None
        folder = self.backups / AUTO_FOLDER
        now = self.clock.now()
        existing = {s: p for p in folder.glob(f"auto-*{SUFFIX}") if (s := _stamp_of(p)) is not None}
        made = None
        if not any(s.date() == now.date() for s in existing):
            target = folder / (now.strftime("auto-%Y%m%d-%H%M%S") + SUFFIX)
            made = self._backup(target, None, "auto_backup")
            existing[now.replace(microsecond=0)] = target
        keep = keep_set(existing)
        for stamp, path in existing.items():
            if stamp not in keep:
                path.unlink(missing_ok=True)
        return made

    def backups_list(self) -> list[BackupFile]:
        """The backups in the backups folder, newest first (not read through: size and name only)."""
        require_role(self.operator, StaffRole.MANAGER)
        files = sorted(self.backups.rglob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime, reverse=True)
        return [BackupFile(p, p.stat().st_size, None, None, 0) for p in files]
