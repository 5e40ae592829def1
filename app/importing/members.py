"""`members import` and `members export`.

Import rules: every row is validated like a registration at the counter; a refused row is reported by its line number
with the reason and changes nothing. By default the valid rows are imported (a batch a transaction); with
all-or-nothing one transaction holds the whole file and is rolled back if any row is refused. A row whose member number
is already in the store (or, without a member number, whose phone belongs to a member of the same name) is counted as
already imported, so the same file imported twice creates nothing twice. Opening points become an `import` ledger
entry and a lot.

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

import datetime as dt
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from app.clock import Clock
from app.errors import MemberDeskError, ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate
from app.importing.tables import MEMBER_COLUMNS, Row, read_table, write_table
from app.loyalty.opening import post_opening_balances
from app.loyalty.rules import expiry_for
from app.members.pinyin import pinyin_keys
from app.members.validation import normalize_card_no, normalize_id_number, normalize_phone
from app.security.crypto import FieldCipher
from app.security.operator import Operator, require_role
from app.settings import StoreSettings, read_settings
from app.trust.audit import record_audit, row_marks, tie_new_rows
from app.workers import fork_helps, in_child
from db.base import Base
from db.bulk import DriverValues, bulk_insert, drop_indexes, ordered_uuids, restore_indexes, select_in
from db.engine import Database
from db.enums import Gender, MemberStatus, StaffRole
from db.models import Member, MemberTag, Tag, Tier

BATCH = 20_000
Progress = Callable[[int, int, str], bool]

GENDERS: dict[str, Gender] = {
    "": Gender.UNKNOWN,
    "unknown": Gender.UNKNOWN,
    "未知": Gender.UNKNOWN,
    "f": Gender.FEMALE,
    "female": Gender.FEMALE,
    "女": Gender.FEMALE,
    "m": Gender.MALE,
    "male": Gender.MALE,
    "男": Gender.MALE,
}


GENDER_VALUES = {text: gender.value for text, gender in GENDERS.items()}


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

    def summary(self) -> str:
        text = translate("Import", S("Import", "{imported} imported, {already} already there, {refused} refused"))
        line = text.format(imported=self.imported, already=self.already_there, refused=len(self.refused))
        if self.rolled_back:
            line += " — " + translate("Import", S("Import", "nothing was imported (all or nothing)"))
        return line


class ImportCancelled(MemberDeskError):
    pass


def parse_date(text: str, what: str) -> dt.date | None:
    if not text:
        return None
    value = text.strip().replace("/", "-").replace(".", "-")
    try:
        return dt.date.fromisoformat(value[:10]) if len(value) >= 10 else dt.datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        pass
    if len(value) == 8 and value.isdigit():
        try:
            return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            pass
    raise ValidationError(S("Errors", "{what}: not a date (use YYYY-MM-DD): {value}"), what=what, value=text)


def parse_time(text: str, tz: ZoneInfo, what: str) -> dt.datetime | None:
    """An ISO date or date-time in the store's time zone (or with its own offset), as UTC."""
    if not text:
        return None
    value = text.strip().replace("/", "-")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        day = parse_date(value, what)
        assert day is not None
        parsed = dt.datetime.combine(day, dt.time(0))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(dt.UTC)


def parse_points(text: str) -> int:
    value = (text or "0").strip().replace(",", "")
    if not value.isdigit():
        raise ValidationError(S("Errors", "Points must be a whole number of 0 or more: {value}"), value=text)
    return int(value)


MEMBER_INSERT = (
    "client_uuid",
    "member_no",
    "phone",
    "phone_last4",
    "name",
    "gender",
    "birthday",
    "birthday_mmdd",
    "card_no",
    "tier_id",
    "joined_at",
    "membership_consent_at",
    "notes",
    "id_number_enc",
    "id_number_hash",
    "pinyin_initials",
    "pinyin_full",
    "points_balance",
)
"""The member columns that differ from row to row, in the order RowParser.parse makes them."""
MEMBER_NO_AT = MEMBER_INSERT.index("member_no")
BULK_ROWS = 100_000
"""From this many rows on, the secondary indexes of BULK_TABLES are dropped for the import and built again after
it (unique ones stay: the duplicate checks use them). 1M members: 24 s of member inserts become about 8."""
BULK_TABLES = ("members", "points_ledger", "points_lots", "member_tags")
WORKER_ROWS = 50_000
"""From this many rows on (as counted before reading), a forked worker validates while this process inserts."""


UNNUMBERED = "t"
"""Stands in front of the phone as a member number until the member's id is known (a member number from the file
is upper-cased, so it can never start with a lower-case t)."""
MEMBER_NO_AT, PHONE_AT, NAME_AT, CARD_AT, POINTS_AT = (
    MEMBER_INSERT.index(c) for c in ("member_no", "phone", "name", "card_no", "points_balance")
)


class ParsedBatch(NamedTuple):
    """A batch of the file's rows, validated. Plain lists and tuples, because they cross to the writing process:
    unpickling a NamedTuple a row cost the writer 10 s for 1M rows."""

    rows: int
    refused: list[RefusedRow]
    lines: list[int]
    """The line of each valid row, in the file."""
    members: list[tuple[Any, ...]]
    """Each valid row as RowParser.columns, the way the driver takes them."""
    tags: dict[int, list[str]]
    """Tag names by position in `members`, for the rows that have any."""


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
        parser = RowParser(settings, tiers, now, self.operator, self.cipher, sqlite=self.db.is_sqlite)
        writer = _BatchWriter(self.operator, settings, now, parser.columns, sqlite=self.db.is_sqlite)
        ticker = _Ticker(progress, table.size_hint)
        report = ImportReport()
        use_worker = table.size_hint >= WORKER_ROWS and fork_helps()
        batches = in_child(partial(parser.batches, table.rows), "member-import") if use_worker else None
        with closing(batches or parser.batches(table.rows)) as parsed, self.db.bulk_loader() as loader:
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
        writer: _BatchWriter,
        report: ImportReport,
        ticker: _Ticker,
        all_or_nothing: bool,
    ) -> None:
        """A transaction a batch, or with all-or-nothing one for the whole file, undone if any row was refused."""
        if not all_or_nothing:
            for batch in parsed:
                loader.write(partial(writer.store, batch=batch, report=report))
                ticker.tick(batch.rows)
            return

        def everything(session: Session) -> None:
            for batch in parsed:
                writer.store(session, batch, report)
                ticker.tick(batch.rows)
            if report.refused:
                raise _RollBack

        try:
            loader.write(everything)
        except _RollBack:
            report.imported = 0
            report.rolled_back = True


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


class RowParser:
    """Reads and validates the file's rows batch by batch, checking duplicates within the file; touches no
    database, so it can run in a worker process."""

    def __init__(
        self,
        settings: StoreSettings,
        tiers: Sequence[Tier],
        now: dt.datetime,
        operator: Operator,
        cipher: FieldCipher,
        *,
        sqlite: bool,
    ) -> None:
        self.settings = settings
        self.tiers = _tier_index(tiers)
        self.default_tier = tiers[0].id
        self.tz = ZoneInfo(settings.store_timezone)
        self.now = now
        self.cipher = cipher
        self.convert = DriverValues(sqlite=sqlite)
        self.uuids = ordered_uuids(now)
        # The same for every row, as the driver takes them.
        fixed = {
            "status": MemberStatus.ACTIVE,
            "home_branch_id": operator.branch_id,
            "lifetime_spend_fen": 0,
            "visit_count": 0,
            "marketing_consent": False,
            "referral_rewarded": False,
            "created_by_id": operator.staff_id,
            "updated_at": now,
        }
        self.columns = (*MEMBER_INSERT, *fixed)
        self.fixed = tuple(self.convert(v) for v in fixed.values())
        self.seen_keys: dict[str, set[str]] = {"member_no": set(), "phone": set(), "card_no": set()}
        self.card_prefix = settings.cards_prefix
        self.today = now.date()
        self.pinyin = lru_cache(maxsize=200_000)(pinyin_keys)
        self._birthdays: dict[str, tuple[Any, str | None]] = {}
        self._joined_at: dict[str, Any] = {}

    def batches(self, rows: Iterator[Row]) -> Generator[ParsedBatch, None, None]:
        for batch in batched(rows, BATCH):
            parsed = ParsedBatch(len(batch), [], [], [], {})
            for row in batch:
                try:
                    values, tags = self.parse(row)
                except ValidationError as exc:
                    parsed.refused.append(RefusedRow(row.line, str(exc)))
                    continue
                if tags:
                    parsed.tags[len(parsed.members)] = tags
                parsed.lines.append(row.line)
                parsed.members.append(values)
            yield parsed

    def parse(self, row: Row) -> tuple[tuple[Any, ...], list[str]]:
        """One row as the values to insert (RowParser.columns) and its tags; a bad row raises ValidationError."""
        v = row.values
        name = v.get("name", "")
        if not name or len(name) > 40:
            raise ValidationError(S("Errors", "Enter the member's name."), field="name")
        phone = normalize_phone(v.get("phone", ""))
        member_no = v.get("member_no", "").upper()
        if len(member_no) > 40:
            raise ValidationError(S("Errors", "A member number has at most 40 characters."), field="member_no")
        card = normalize_card_no(v["card_no"], self.card_prefix) if v.get("card_no") else None
        keys = (("member_no", member_no), ("phone", phone), ("card_no", card))
        for key, value in keys:
            if value and value in self.seen_keys[key]:
                raise ValidationError(
                    S("Errors", "Same {what} as an earlier row of this file: {value}"), what=key, value=value
                )
        gender = GENDER_VALUES.get(v.get("gender", "").lower())
        if gender is None:
            raise ValidationError(S("Errors", "Gender must be 男/女 or male/female: {value}"), value=v["gender"])
        birthday, birthday_mmdd = self._birthday(v.get("birthday", ""))
        joined = self._joined(v.get("joined_at", ""))
        tier_text = v.get("tier", "").lower()
        tier_id = self.tiers.get(tier_text) if tier_text else self.default_tier
        if tier_id is None:
            raise ValidationError(S("Errors", "Unknown tier: {value}"), value=v["tier"])
        points = parse_points(v.get("points", ""))
        id_enc = id_hash = None
        if v.get("id_number"):
            id_number = normalize_id_number(v["id_number"], today=self.today)
            id_enc, id_hash = self.cipher.encrypt(id_number), self.cipher.lookup_hash(id_number)
        initials, full = self.pinyin(name)
        for key, value in keys:
            if value:
                self.seen_keys[key].add(value)
        values = (
            next(self.uuids),
            member_no or UNNUMBERED + phone,
            phone,
            phone[-4:],
            name,
            gender,
            birthday,
            birthday_mmdd,
            card,
            tier_id,
            joined,
            joined,
            v.get("notes") or None,
            id_enc,
            id_hash,
            initials,
            full,
            points,
            *self.fixed,
        )
        return values, _tags(v["tags"]) if v.get("tags") else []

    def _birthday(self, text: str) -> tuple[Any, str | None]:
        """The birthday as the driver takes it and its MM-DD, remembered by text (a file has a few thousand)."""
        known = self._birthdays.get(text)
        if known is None:
            day = parse_date(text, "birthday")
            if day and not dt.date(1900, 1, 1) <= day <= self.today:
                raise ValidationError(S("Errors", "A date lies in the future or before 1900."), field="birthday")
            known = self._birthdays[text] = (self.convert(day), day.strftime("%m-%d") if day else None)
        return known

    def _joined(self, text: str) -> Any:
        known = self._joined_at.get(text)
        if known is None:
            moment = parse_time(text, self.tz, "joined_at") or self.now
            if moment > self.now:
                raise ValidationError(S("Errors", "A date lies in the future or before 1900."), field="joined_at")
            known = self._joined_at[text] = self.convert(moment)
        return known


def _tags(text: str) -> list[str]:
    tags = (t.strip() for t in text.replace("，", ",").replace("、", ",").replace(";", ",").split(","))
    return [t for t in tags if t][:20]


class _BatchWriter:
    """Stores parsed batches: skips members the store already has, inserts the rest with their opening points
    (ledger row and lot) and tags."""

    def __init__(
        self,
        operator: Operator,
        settings: StoreSettings,
        now: dt.datetime,
        columns: tuple[str, ...],
        *,
        sqlite: bool,
    ) -> None:
        self.operator = operator
        self.columns = columns
        self.now = now
        self.expires = expiry_for(now, settings)
        self.convert = DriverValues(sqlite=sqlite)
        self.uuids = ordered_uuids(now)

    def store(self, session: Session, batch: ParsedBatch, report: ImportReport) -> None:
        report.refused.extend(batch.refused)
        conn = session.connection()
        fresh = self._fresh(conn, batch, report)
        if not fresh:
            return
        tie_new_rows(session, self.operator, row_marks(session))
        rows = [batch.members[i] for i in fresh]
        bulk_insert(conn, "members", self.columns, rows)
        numbers = [row[MEMBER_NO_AT] for row in rows]
        id_of = dict(select_in(conn, "SELECT member_no, id FROM members WHERE member_no IN ({values})", numbers))
        ids = [id_of[n] for n in numbers]
        renumber = [
            {"b_id": mid, "b_no": f"MD{mid:08d}"}
            for mid, number in zip(ids, numbers, strict=True)
            if number.startswith(UNNUMBERED)
        ]
        if renumber:
            conn.execute(
                update(table_of(Member)).where(Member.id == bindparam("b_id")).values(member_no=bindparam("b_no")),
                renumber,
            )
        self._opening_points(
            conn, [(mid, row[POINTS_AT]) for mid, row in zip(ids, rows, strict=True) if row[POINTS_AT]]
        )
        at = {i: mid for i, mid in zip(fresh, ids, strict=True)}
        self._tags(session, [(at[i], tag) for i, tags in batch.tags.items() if i in at for tag in tags])
        report.imported += len(fresh)
        record_audit(session, self.operator, "import_batch", "members", None, {"members": len(fresh)})

    @staticmethod
    def _fresh(conn: Connection, batch: ParsedBatch, report: ImportReport) -> list[int]:
        """Positions of the rows whose member the store does not have yet; the others are counted or refused."""
        active = MemberStatus.ACTIVE.value
        members = batch.members
        numbers = [m[MEMBER_NO_AT] for m in members if not m[MEMBER_NO_AT].startswith(UNNUMBERED)]
        existing_numbers = {
            n for (n,) in select_in(conn, "SELECT member_no FROM members WHERE member_no IN ({values})", numbers)
        }
        phones = [m[PHONE_AT] for m in members]
        existing_phones = dict(
            select_in(
                conn, f"SELECT phone, name FROM members WHERE status = '{active}' AND phone IN ({{values}})", phones
            )
        )
        cards = [m[CARD_AT] for m in members if m[CARD_AT]]
        existing_cards = {
            card
            for (card,) in select_in(
                conn, f"SELECT card_no FROM members WHERE status = '{active}' AND card_no IN ({{values}})", cards
            )
        }
        fresh: list[int] = []
        for i, (line, member) in enumerate(zip(batch.lines, members, strict=True)):
            number, phone, card = member[MEMBER_NO_AT], member[PHONE_AT], member[CARD_AT]
            if number in existing_numbers:
                report.already_there += 1
            elif phone in existing_phones:
                if number.startswith(UNNUMBERED) and existing_phones[phone] == member[NAME_AT]:
                    report.already_there += 1
                else:
                    message = translate("Errors", S("Errors", "Phone {phone} already belongs to a member."))
                    report.refused.append(RefusedRow(line, message.format(phone=phone)))
            elif card and card in existing_cards:
                message = translate("Errors", S("Errors", "Card {card} already belongs to a member."))
                report.refused.append(RefusedRow(line, message.format(card=card)))
            else:
                fresh.append(i)
        return fresh

    def _opening_points(self, conn: Connection, opening: list[tuple[int, int]]) -> None:
        """An import ledger row and a lot for each member who brings points."""
        post_opening_balances(conn, self.operator, opening, self.now, self.expires, self.uuids)

    @staticmethod
    def _tags(session: Session, links: list[tuple[int, str]]) -> None:
        if not links:
            return
        names = {tag for _mid, tag in links}
        known = dict(session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(names))).all())
        for name in sorted(names - known.keys()):
            tag = Tag(name=name[:40])
            session.add(tag)
            session.flush()
            known[name] = tag.id
        session.execute(insert(MemberTag), [{"member_id": mid, "tag_id": known[t]} for mid, t in set(links)])


class _RollBack(Exception):
    """Raised inside the all-or-nothing transaction to undo it after the refusals were counted."""


def _tier_index(tiers: Sequence[Tier]) -> dict[str, int]:
    index: dict[str, int] = {}
    for tier in tiers:
        for name in (tier.code, tier.name, tier.name_en, tier.name.removesuffix("会员")):
            index[name.lower()] = tier.id
    return index


def batched(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def table_of(model: type[Base]) -> Table:
    """The Core table behind a model: Core executemany skips the ORM's per-row bookkeeping."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def export_members(db: Database, operator: Operator, cipher: FieldCipher, path: Path) -> int:
    """All members but anonymised ones, in the import format (ID numbers only for the owner)."""
    require_role(operator, StaffRole.MANAGER)
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise ValidationError(S("Errors", "Export to a .csv or .xlsx file."))
    with_ids = operator.at_least(StaffRole.OWNER)

    def rows(session: Session) -> Iterator[list[object]]:
        tz = ZoneInfo(read_settings(session).store_timezone)
        tags: dict[int, list[str]] = {}
        for member_id, name in session.execute(select(MemberTag.member_id, Tag.name).join(Tag)):
            tags.setdefault(member_id, []).append(name)
        query = (
            select(Member, Tier.name)
            .join(Tier, Tier.id == Member.tier_id)
            .where(Member.status != MemberStatus.ANONYMISED)
            .order_by(Member.id)
            .execution_options(yield_per=2000)
        )
        for member, tier_name in session.execute(query):
            id_number = cipher.decrypt(member.id_number_enc) if with_ids and member.id_number_enc else None
            yield [
                member.member_no,
                member.phone,
                member.name,
                member.gender.value,
                member.birthday.isoformat() if member.birthday else None,
                member.card_no,
                member.points_balance,
                tier_name,
                member.joined_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
                id_number,
                ",".join(sorted(tags.get(member.id, []))),
                member.notes,
            ]

    with db.session() as session:
        count = write_table(path, MEMBER_COLUMNS, rows(session))
    db.write(lambda s: record_audit(s, operator, "export", "members", None, {"file": path.name, "members": count}))
    return count
