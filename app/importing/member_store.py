"""Writing a member file's judged rows: skips members the store already has (counted, or refused when their phone or
card belongs to someone else), inserts the rest with the driver's executemany, numbers them, and posts their
opening points and tags. Runs inside the importer's transaction; counts nothing until it is committed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, Table, bindparam, select, update
from sqlalchemy.orm import Session

from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate
from app.importing.member_rows import (
    CARD_AT,
    MEMBER_INSERT,
    MEMBER_NO_AT,
    NAME_AT,
    PHONE_AT,
    POINTS_AT,
    UNNUMBERED,
    ParsedBatch,
)
from app.importing.report import ImportReport, RefusedRow
from app.loyalty.opening import post_opening_balances
from app.loyalty.rules import expiry_for
from app.members.numbers import member_no_for
from app.security.operator import Operator
from app.settings import StoreSettings
from app.trust.audit import record_audit, row_marks, tie_new_rows
from db.base import Base
from db.bulk import DriverValues, bulk_insert, ordered_uuids, select_in
from db.enums import MemberStatus
from db.models import Member, Tag


class BatchWriter:
    """Stores parsed batches: skips members the store already has, inserts the rest with their opening points
    (ledger row and lot) and tags."""

    def __init__(
        self,
        operator: Operator,
        settings: StoreSettings,
        now: dt.datetime,
        *,
        sqlite: bool,
    ) -> None:
        self.operator = operator
        self.now = now
        self.expires = expiry_for(now, settings)
        self.convert = DriverValues(sqlite=sqlite)
        self.uuids = ordered_uuids(now)
        same = {
            "status": MemberStatus.ACTIVE,
            "home_branch_id": operator.branch_id,
            "lifetime_spend_fen": 0,
            "visit_count": 0,
            "marketing_consent": False,
            "referral_rewarded": False,
            "created_by_id": operator.staff_id,
            "updated_at": now,
        }
        self.same = {column: self.convert(value) for column, value in same.items()}
        """The member columns that are the same for every imported member, as the driver takes them."""

    def store(self, session: Session, batch: ParsedBatch) -> ImportReport:
        """What became of the batch's rows; counted into the import's report once the transaction is committed."""
        report = ImportReport(refused=list(batch.refused), rows=batch.rows)
        conn = session.connection()
        fresh = self._fresh(conn, batch, report)
        if not fresh:
            return report
        tie_new_rows(session, self.operator, row_marks(session))  # the batch's entry vouches for its opening points
        rows = [batch.members[i] for i in fresh]
        before = _last_id(conn)
        bulk_insert(conn, "members", MEMBER_INSERT, rows, same=self.same)
        numbers = [row[MEMBER_NO_AT] for row in rows]
        ids = _new_ids(conn, before, numbers)
        renumber = [
            {"b_id": mid, "b_no": member_no_for(mid)}
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
        return report

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
            tag = Tag(name=name)
            session.add(tag)
            session.flush()
            known[name] = tag.id
        rows = sorted({(mid, known[tag]) for mid, tag in links})  # in key order: appended to the primary key
        bulk_insert(session.connection(), "member_tags", ("member_id", "tag_id"), rows)


def _last_id(conn: Connection) -> int:
    return int(conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM members").scalar_one())


def _new_ids(conn: Connection, before: int, numbers: list[str]) -> list[int]:
    """The ids of the members just inserted, in the order of their member numbers. When the highest id grew by
    exactly their count, they took the ids after it one by one, in order (SQLite gives a new row the highest id
    plus one; a PostgreSQL sequence hands out increasing ids, and a concurrent insert would leave a gap);
    otherwise the ids are looked up by member number."""
    after = _last_id(conn)
    if after - before == len(numbers):
        return list(range(before + 1, after + 1))
    id_of = dict(select_in(conn, "SELECT member_no, id FROM members WHERE member_no IN ({values})", numbers))
    return [id_of[n] for n in numbers]


def table_of(model: type[Base]) -> Table:
    """The Core table behind a model: Core executemany skips the ORM's per-row bookkeeping."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
