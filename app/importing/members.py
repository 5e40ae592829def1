"""`members import` and `members export`.

Import rules: every row is validated like a registration at the counter; a refused row is reported by its line number
with the reason and changes nothing. By default the valid rows are imported (a batch a transaction); with
all-or-nothing one transaction holds the whole file and is rolled back if any row is refused. A row whose member number
is already in the store (or, without a member number, whose phone belongs to a member of the same name) is counted as
already imported, so the same file imported twice creates nothing twice. Opening points become an `import` ledger
entry and a lot. Rows are inserted in batches with RETURNING, so a million members take seconds, not hours.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.clock import Clock
from app.errors import MemberDeskError, ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate
from app.importing.tables import MEMBER_COLUMNS, Row, read_table, write_table
from app.loyalty.rules import expiry_for
from app.members.pinyin import pinyin_keys
from app.members.validation import normalize_card_no, normalize_id_number, normalize_phone
from app.security.crypto import FieldCipher
from app.security.operator import Operator, require_role
from app.settings import read_settings
from db.base import Base
from db.bulk import DriverValues, bulk_insert
from db.engine import Database
from db.enums import Gender, LedgerSource, MemberStatus, StaffRole
from db.models import Member, MemberTag, PointsLedger, PointsLot, Tag, Tier

BATCH = 20_000
Progress = Callable[[int, int, str], bool]

GENDERS = {
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


class MemberImporter:
    def __init__(self, db: Database, operator: Operator, clock: Clock, cipher: FieldCipher) -> None:
        self.db = db
        self.operator = operator
        self.clock = clock
        self.cipher = cipher

    def run(self, path: Path, *, all_or_nothing: bool = False, progress: Progress | None = None) -> ImportReport:
        require_role(self.operator, StaffRole.MANAGER)
        _columns, rows = read_table(path, MEMBER_COLUMNS)
        settings = self.db.read(read_settings)
        tiers = self.db.read(lambda s: list(s.scalars(select(Tier).order_by(Tier.rank))))
        state = _ImportState(
            settings=settings,
            tiers=_tier_index(tiers),
            default_tier=tiers[0].id,
            tz=ZoneInfo(settings["store.timezone"]),
            now=self.clock.now(),
        )
        report = ImportReport()
        batches = batched(rows, BATCH)
        if all_or_nothing:
            try:
                self.db.write(lambda session: self._all(session, batches, state, report, progress))
            except _RollBack:
                report.imported = 0
                report.rolled_back = True
        else:
            for batch in batches:
                self.db.write(partial(self._batch, batch=batch, state=state, report=report))
                self._tick(progress, state)
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

    def _tick(self, progress: Progress | None, state: _ImportState) -> None:
        if progress is not None and not progress(state.seen, 0, "members"):
            raise ImportCancelled(S("Errors", "Import cancelled; rows already committed stay imported."))

    def _all(
        self,
        session: Session,
        batches: Iterator[list[Row]],
        state: _ImportState,
        report: ImportReport,
        progress: Progress | None,
    ) -> None:
        for batch in batches:
            self._batch(session, batch, state, report)
            self._tick(progress, state)
        if report.refused:
            raise _RollBack

    def _batch(self, session: Session, batch: list[Row], state: _ImportState, report: ImportReport) -> None:
        state.seen += len(batch)
        parsed: list[tuple[Row, dict[str, Any], int, list[str]]] = []
        for row in batch:
            try:
                parsed.append((row, *self._parse(row, state)))
            except ValidationError as exc:
                report.refused.append(RefusedRow(row.line, str(exc)))
        numbers = [p[1]["member_no"] for p in parsed if p[1]["member_no"]]
        existing_numbers = set(session.scalars(select(Member.member_no).where(Member.member_no.in_(numbers))))
        phones = [p[1]["phone"] for p in parsed]
        existing_phones = dict(
            session.execute(
                select(Member.phone, Member.name).where(Member.phone.in_(phones), Member.status == MemberStatus.ACTIVE)
            ).all()
        )
        cards = [p[1]["card_no"] for p in parsed if p[1]["card_no"]]
        existing_cards = set(
            session.scalars(
                select(Member.card_no).where(Member.card_no.in_(cards), Member.status == MemberStatus.ACTIVE)
            )
        )
        fresh: list[tuple[dict[str, Any], int, list[str]]] = []
        for row, values, points, tags in parsed:
            if values["member_no"] in existing_numbers:
                report.already_there += 1
                continue
            if values["phone"] in existing_phones:
                if not values["member_no"] and existing_phones[values["phone"]] == values["name"]:
                    report.already_there += 1
                else:
                    report.refused.append(
                        RefusedRow(
                            row.line,
                            translate("Errors", S("Errors", "Phone {phone} already belongs to a member.")).format(
                                phone=values["phone"]
                            ),
                        )
                    )
                continue
            if values["card_no"] and values["card_no"] in existing_cards:
                report.refused.append(
                    RefusedRow(
                        row.line,
                        translate("Errors", S("Errors", "Card {card} already belongs to a member.")).format(
                            card=values["card_no"]
                        ),
                    )
                )
                continue
            fresh.append((values, points, tags))
        if fresh:
            self._insert(session, fresh, state)
            report.imported += len(fresh)

    def _parse(self, row: Row, state: _ImportState) -> tuple[dict[str, Any], int, list[str]]:
        v = row.values
        name = v.get("name", "").strip()
        if not name or len(name) > 40:
            raise ValidationError(S("Errors", "Enter the member's name."), field="name")
        phone = normalize_phone(v.get("phone", ""))
        member_no = v.get("member_no", "").strip().upper()
        if len(member_no) > 40:
            raise ValidationError(S("Errors", "A member number has at most 40 characters."), field="member_no")
        for key, value, what in (("member_no", member_no, "member_no"), ("phone", phone, "phone")):
            if value and value in state.seen_keys[key]:
                raise ValidationError(
                    S("Errors", "Same {what} as an earlier row of this file: {value}"), what=what, value=value
                )
        card = normalize_card_no(v["card_no"], state.settings["cards.prefix"]) if v.get("card_no") else None
        if card and card in state.seen_keys["card_no"]:
            raise ValidationError(
                S("Errors", "Same {what} as an earlier row of this file: {value}"), what="card_no", value=card
            )
        gender = GENDERS.get(v.get("gender", "").strip().lower())
        if gender is None:
            raise ValidationError(S("Errors", "Gender must be 男/女 or male/female: {value}"), value=v["gender"])
        birthday = parse_date(v.get("birthday", ""), "birthday")
        joined = parse_time(v.get("joined_at", ""), state.tz, "joined_at") or state.now
        if joined > state.now or (birthday and not dt.date(1900, 1, 1) <= birthday <= state.now.date()):
            raise ValidationError(S("Errors", "A date lies in the future or before 1900."), field="birthday")
        tier_text = v.get("tier", "").strip().lower()
        tier_id = state.tiers.get(tier_text) if tier_text else state.default_tier
        if tier_id is None:
            raise ValidationError(S("Errors", "Unknown tier: {value}"), value=v["tier"])
        points = parse_points(v.get("points", ""))
        values: dict[str, Any] = {
            "member_no": member_no,
            "phone": phone,
            "phone_last4": phone[-4:],
            "name": name,
            "gender": gender,
            "birthday": birthday,
            "birthday_mmdd": birthday.strftime("%m-%d") if birthday else None,
            "card_no": card,
            "tier_id": tier_id,
            "joined_at": joined,
            "membership_consent_at": joined,
            "notes": v.get("notes", "").strip() or None,
            "id_number_enc": None,
            "id_number_hash": None,
        }
        if v.get("id_number"):
            id_number = normalize_id_number(v["id_number"], today=state.now.date())
            values["id_number_enc"] = self.cipher.encrypt(id_number)
            values["id_number_hash"] = self.cipher.lookup_hash(id_number)
        values["pinyin_initials"], values["pinyin_full"] = pinyin_keys(name)
        tags = [t.strip() for t in v.get("tags", "").replace("，", ",").replace("、", ",").replace(";", ",").split(",")]
        state.seen_keys["phone"].add(phone)
        if member_no:
            state.seen_keys["member_no"].add(member_no)
        if card:
            state.seen_keys["card_no"].add(card)
        return values, points, [t for t in tags if t][:20]

    def _insert(
        self, session: Session, fresh: list[tuple[dict[str, Any], int, list[str]]], state: _ImportState
    ) -> None:
        now = state.now
        member_rows = []
        for values, points, _tags in fresh:
            member_rows.append(
                {
                    **values,
                    "member_no": values["member_no"] or f"T{values['phone']}",
                    "client_uuid": _uuid(),
                    "status": MemberStatus.ACTIVE,
                    "home_branch_id": self.operator.branch_id,
                    "points_balance": points,
                    "lifetime_spend_fen": 0,
                    "visit_count": 0,
                    "marketing_consent": False,
                    "referral_rewarded": False,
                    "created_by_id": self.operator.staff_id,
                    "updated_at": now,
                }
            )
        # The driver's executemany (SQLite cannot batch INSERT … RETURNING in parameter order, and SQLAlchemy's
        # per-row parameter processing is a third of the time), then one query for the ids.
        conn = session.connection()
        convert = DriverValues(conn)
        columns = list(member_rows[0])
        bulk_insert(conn, "members", columns, [tuple(convert(row[c]) for c in columns) for row in member_rows])
        numbers = [row["member_no"] for row in member_rows]
        id_of = dict(conn.execute(select(Member.member_no, Member.id).where(Member.member_no.in_(numbers))).all())
        ids = [id_of[n] for n in numbers]
        renumber = [
            {"b_id": mid, "b_no": f"MD{mid:08d}"}
            for mid, (values, _p, _t) in zip(ids, fresh, strict=True)
            if not values["member_no"]
        ]
        if renumber:
            conn.execute(
                update(table_of(Member)).where(Member.id == bindparam("b_id")).values(member_no=bindparam("b_no")),
                renumber,
            )
        ledger_rows = [
            {
                "client_uuid": _uuid(),
                "idempotency_key": f"import:{mid}",
                "member_id": mid,
                "branch_id": self.operator.branch_id,
                "staff_id": self.operator.staff_id,
                "approved_by_id": None,
                "sale_id": None,
                "source": LedgerSource.IMPORT,
                "delta": points,
                "balance_after": points,
                "reason": "opening balance from import",
                "created_at": now,
            }
            for mid, (_v, points, _t) in zip(ids, fresh, strict=True)
            if points > 0
        ]
        if ledger_rows:
            conn.execute(insert(table_of(PointsLedger)), ledger_rows)
            keys = [row["idempotency_key"] for row in ledger_rows]
            entries = conn.execute(
                select(PointsLedger.id, PointsLedger.member_id, PointsLedger.delta).where(
                    PointsLedger.idempotency_key.in_(keys)
                )
            ).all()
            expires = expiry_for(now, state.settings)
            conn.execute(
                insert(table_of(PointsLot)),
                [
                    {
                        "member_id": member_id,
                        "ledger_id": entry_id,
                        "earned_at": now,
                        "expires_at": expires,
                        "points": delta,
                        "remaining": delta,
                    }
                    for entry_id, member_id, delta in entries
                ],
            )
        tag_links = [(mid, tag) for mid, (_v, _p, tags) in zip(ids, fresh, strict=True) for tag in tags]
        if tag_links:
            names = {tag for _mid, tag in tag_links}
            known = dict(session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(names))).all())
            for name in sorted(names - known.keys()):
                tag = Tag(name=name[:40])
                session.add(tag)
                session.flush()
                known[name] = tag.id
            session.execute(insert(MemberTag), [{"member_id": mid, "tag_id": known[t]} for mid, t in set(tag_links)])


class _RollBack(Exception):
    """Raised inside the all-or-nothing transaction to undo it after the refusals were counted."""


@dataclass
class _ImportState:
    settings: dict[str, Any]
    tiers: dict[str, int]
    default_tier: int
    tz: ZoneInfo
    now: dt.datetime
    seen: int = 0
    seen_keys: dict[str, set[str]] = field(
        default_factory=lambda: {"member_no": set(), "phone": set(), "card_no": set()}
    )


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


def _uuid() -> str:
    return str(uuid.uuid4())


def export_members(db: Database, operator: Operator, cipher: FieldCipher, path: Path) -> int:
    """All members but anonymised ones, in the import format (ID numbers only for the owner)."""
    require_role(operator, StaffRole.MANAGER)
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise ValidationError(S("Errors", "Export to a .csv or .xlsx file."))
    with_ids = operator.at_least(StaffRole.OWNER)

    def rows(session: Session) -> Iterator[list[object]]:
        tz = ZoneInfo(read_settings(session)["store.timezone"])
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
        return write_table(path, MEMBER_COLUMNS, rows(session))
