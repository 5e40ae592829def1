"""Finding, registering and editing members: the counter's hot path.

What the lookup box's text means is decided in app.members.lookup (shared with the member list); what a field may
hold in app.members.validation (shared with the import and the dialogs).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Select, func, select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, lazyload

from app.clock import Clock
from app.errors import ConflictError, NotFoundError, ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.members.first_lookup import first_lookup
from app.members.hits import LOOKUP_LIMIT as LOOKUP_LIMIT
from app.members.hits import LookupResult as LookupResult
from app.members.hits import MemberHit as MemberHit
from app.members.hits import member_hit
from app.members.lookup import STAGES, Part, Step, find_first, first_rows, plan_lookup
from app.members.numbers import member_no_for
from app.members.pinyin import pinyin_keys
from app.members.plan import Stages, text_params
from app.members.profile import (
    LedgerRow,
    MemberProfile,
    Page,
    SaleRow,
    load_ledger_page,
    load_profile,
    load_sales_page,
    profile_rows,
)
from app.members.queries import listed_members
from app.members.validation import (
    check_birthday,
    clean_name,
    clean_notes,
    clean_tags,
    make_card_no,
    mask_phone,
    normalize_card_no,
    normalize_id_number,
    normalize_phone,
)
from app.security.crypto import FieldCipher
from app.security.operator import Operator
from app.settings import SettingsMemo, read_settings, settings_on
from app.trust.audit import record_audit
from db.engine import PLANNED_AFTER, Database, compiled_sql
from db.enums import Gender, MemberStatus
from db.models import Member, MemberTag, Tag, Tier

if TYPE_CHECKING:
    from db.driver import DriverReads

PERSONAL = frozenset(
    {"name", "phone", "phone_last4", "pinyin_initials", "pinyin_full", "birthday", "birthday_mmdd", "notes"}
    | {"id_number_enc", "id_number_hash"}
)
"""Fields the audit log names but never copies: the trail outlives a member's deletion (PIPL)."""
_HITS = listed_members()


@cache
def _hits(part: Part) -> Select:
    """The statement of one lookup part, built the first time it is used (there are a dozen parts)."""
    return first_rows(_HITS, part)


@cache
def lookup_statements(dialect: Dialect) -> Stages:
    """Every lookup stage as `dialect` runs it: by stage name, whether it is exact and each part's SQL with the values
    it binds besides the typed text and the limit. A chain's server runs them on the driver's connection
    (`Database.driver_read`); SQLite's are written to `app/members/first_sql.py` (`sqlite_statements`)."""
    return {
        name: (stage.exact, [compiled_sql(_hits(part), dialect) for part in stage.parts])
        for name, stage in STAGES.items()
    }


def sqlite_statements() -> Stages:
    """The lookup's statements as SQLite runs them (`app/members/first_sql.py` holds what this gives: written out by
    `python -m app.members.first_sql`, checked by tests/test_start_up.py)."""
    from sqlalchemy.dialects import sqlite

    return lookup_statements(sqlite.dialect(paramstyle="named"))


def plan_counter_reads(db: Database, clock: Clock) -> None:
    """On a chain's server: the lookup's and the member panel's statements prepared on the counter's connection and
    run until the server keeps one plan for each (`PLANNED_AFTER`), before the first customer (the GUI asks once the
    store is open, on the counter's lane). PostgreSQL plans a prepared statement afresh at each of its first five
    runs (the panel's: 3.5 ms) and a new connection's backend first loads the catalogue (~10 ms): without this a
    counter's first eight customers waited 3–40 ms more. Each run looks for text and a member that cannot exist.
    Nothing to do on SQLite."""
    if not db.reads_on_driver:
        return
    stages = lookup_statements(db.engine.dialect)
    memo = SettingsMemo.of(db.memo)
    nothing = {**text_params("\x01"), "limit": 1}

    def plan(driver: DriverReads) -> None:
        settings = settings_on(driver, memo)
        for _ in range(PLANNED_AFTER):
            for _exact, parts in stages.values():
                for sql, fixed in parts:
                    driver.rows(sql, {**fixed, **nothing})
            profile_rows(driver, settings, 0, clock.now())

    db.driver_read(plan)


@dataclass
class MemberForm:
    phone: str
    name: str
    gender: Gender = Gender.UNKNOWN
    birthday: dt.date | None = None
    card_no: str | None = None
    id_number: str | None = None
    home_branch_id: int | None = None
    referrer: str | None = None
    tags: list[str] = field(default_factory=list)
    notes: str | None = None
    membership_consent: bool = False
    marketing_consent: bool = False


class MemberService:
    def __init__(self, db: Database, operator: Operator, clock: Clock, cipher: FieldCipher) -> None:
        self.db = db
        self.operator = operator
        self.clock = clock
        self.cipher = cipher

    # ---- lookup -------------------------------------------------------------------------------------------
    def lookup(self, query: str, limit: int = LOOKUP_LIMIT) -> LookupResult:
        """The counter's lookup: plain statements on a connection (no session, no ORM objects, no transaction),
        each built and compiled once. On an SQLite file it runs on this thread's plain sqlite3 connection
        (`Database.plain_reads`), on a chain's server on the driver's connection (`Database.driver_read`), the
        statements as the database gets them (`app.members.first_lookup`): no SQLAlchemy execution or result
        objects."""
        reads = self.db.plain_reads()
        if reads is not None:
            return first_lookup(reads, query, self.operator.sees_full_phone, limit)
        if self.db.reads_on_driver:
            stages = lookup_statements(self.db.engine.dialect)
            sees = self.operator.sees_full_phone
            return self.db.driver_read(lambda driver: first_lookup(driver, query, sees, limit, stages))
        steps = plan_lookup(query)
        if not steps:
            return LookupResult([], False)
        return self.db.quick_read(lambda connection: self._lookup(connection, steps, limit))

    def _lookup(self, reader: Connection | Session, steps: list[Step], limit: int) -> LookupResult:
        rows, exact = find_first(reader, _hits, steps, limit)
        return LookupResult([member_hit(r, self.operator.sees_full_phone) for r in rows], exact)

    # ---- register and edit ---------------------------------------------------------------------------------
    def _clean(self, session: Session, form: MemberForm, member_id: int | None) -> dict[str, Any]:
        settings = read_settings(session)
        name = clean_name(form.name)
        phone = normalize_phone(form.phone)
        if not form.membership_consent:
            raise ValidationError(
                S("Errors", "The member must agree to membership terms before registering."), field="consent"
            )
        today = self.clock.now().date()
        check_birthday(form.birthday, today)
        values: dict[str, Any] = {
            "name": name,
            "phone": phone,
            "phone_last4": phone[-4:],
            "gender": form.gender,
            "birthday": form.birthday,
            "birthday_mmdd": form.birthday.strftime("%m-%d") if form.birthday else None,
            "notes": clean_notes(form.notes),
            "marketing_consent": form.marketing_consent,
        }
        values["pinyin_initials"], values["pinyin_full"] = pinyin_keys(name)
        clash = session.scalar(
            select(Member.id).where(
                Member.phone == phone, Member.status == MemberStatus.ACTIVE, Member.id != (member_id or 0)
            )
        )
        if clash is not None:
            raise ConflictError(
                S("Errors", "Phone {phone} already belongs to a member."),
                existing_id=clash,
                phone=mask_phone(phone),
            )
        if form.card_no:
            card = normalize_card_no(form.card_no, settings.cards_prefix)
            clash = session.scalar(
                select(Member.id).where(
                    Member.card_no == card,
                    Member.status == MemberStatus.ACTIVE,
                    Member.id != (member_id or 0),
                )
            )
            if clash is not None:
                raise ConflictError(
                    S("Errors", "Card {card} already belongs to a member."), existing_id=clash, card=card
                )
            values["card_no"] = card
        if form.id_number:
            id_number = normalize_id_number(form.id_number, today=today)
            values["id_number_enc"] = self.cipher.encrypt(id_number)
            values["id_number_hash"] = self.cipher.lookup_hash(id_number)
            if form.birthday is None:
                born = dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
                values["birthday"], values["birthday_mmdd"] = born, born.strftime("%m-%d")
        if form.home_branch_id is not None:
            values["home_branch_id"] = form.home_branch_id
        if form.referrer:
            ref = self._lookup(session, plan_lookup(form.referrer), 2)
            if not ref.exact:
                raise ValidationError(
                    S("Errors", "Referrer not found: enter their full phone or card number."),
                    field="referrer",
                )
            if ref.hits[0].id == member_id:
                raise ValidationError(S("Errors", "A member cannot refer themselves."), field="referrer")
            values["referrer_id"] = ref.hits[0].id
        return values

    def _set_tags(self, session: Session, member_id: int, tags: Sequence[str]) -> None:
        wanted = clean_tags(tags)
        session.query(MemberTag).filter(MemberTag.member_id == member_id).delete()
        for name in wanted:
            tag_id = session.scalar(select(Tag.id).where(Tag.name == name))
            if tag_id is None:
                tag = Tag(name=name)
                session.add(tag)
                session.flush()
                tag_id = tag.id
            session.add(MemberTag(member_id=member_id, tag_id=tag_id))

    def register(self, form: MemberForm) -> int:
        """Create a member; returns the new id. A duplicate phone or card is refused with the existing member."""

        def work(session: Session) -> int:
            values = self._clean(session, form, None)
            settings = read_settings(session)
            now = self.clock.now()
            lowest = session.scalar(select(Tier.id).order_by(Tier.rank).limit(1))
            if lowest is None:
                raise NotFoundError(S("Errors", "No tiers are set up."))
            member = Member(
                member_no=f"T{now.strftime('%H%M%S%f')}",
                tier_id=lowest,
                home_branch_id=values.pop("home_branch_id", self.operator.branch_id),
                membership_consent_at=now,
                marketing_consent_at=now if form.marketing_consent else None,
                joined_at=now,
                created_by_id=self.operator.staff_id,
                **values,
            )
            session.add(member)
            session.flush()
            member.member_no = member_no_for(member.id)
            if member.card_no is None:
                member.card_no = make_card_no(settings.cards_prefix, member.id)
            self._set_tags(session, member.id, form.tags)
            record_audit(
                session,
                self.operator,
                "register",
                "member",
                member.id,
                {"member_no": member.member_no, "marketing_consent": form.marketing_consent},
            )
            return member.id

        return self._write_member(work)

    def update(self, member_id: int, form: MemberForm) -> None:
        def work(session: Session) -> None:
            # The member row alone (lazyload: no join to its tier), so PostgreSQL's re-check never loses it.
            member = session.get(Member, member_id, with_for_update={"of": Member}, options=[lazyload(Member.tier)])
            if member is None or member.status == MemberStatus.ANONYMISED:
                raise NotFoundError(S("Errors", "Member not found."))
            values = self._clean(session, self._unmasked(session, member, form), member_id)
            changed = {k: v for k, v in values.items() if getattr(member, k) != v}
            before = {k: str(getattr(member, k)) for k in changed if k not in PERSONAL}
            if form.marketing_consent != member.marketing_consent:
                member.marketing_consent_at = self.clock.now()
            for key, value in changed.items():
                setattr(member, key, value)
            self._set_tags(session, member_id, form.tags)
            record_audit(
                session,
                self.operator,
                "update",
                "member",
                member_id,
                {"fields": sorted(changed), "before": before, "after": {k: str(changed[k]) for k in before}},
            )

        self._write_member(work)

    def _unmasked(self, session: Session, member: Member, form: MemberForm) -> MemberForm:
        """A form from `form_for` shows a cashier masked phones; sent back unchanged, they mean "keep"."""
        referrer = session.scalar(select(Member.phone).where(Member.id == member.referrer_id))
        return dataclasses.replace(
            form,
            phone=member.phone or "" if form.phone == mask_phone(member.phone) else form.phone,
            referrer=referrer if referrer and form.referrer == mask_phone(referrer) else form.referrer,
        )

    def _write_member(self, work: Any) -> Any:
        try:
            return self.db.write(work)
        except IntegrityError as exc:
            # Two counters registering the same phone at once: the partial unique index is the last word.
            raise ConflictError(S("Errors", "That phone or card was just registered at another counter.")) from exc

    def form_for(self, member_id: int) -> MemberForm:
        """The member as an edit form: full phones and the ID number only for staff allowed to see them (a cashier
        gets masked phones, which `update` reads as unchanged, and a blank ID number)."""
        with self.db.session() as session:
            member = session.get(Member, member_id)
            if member is None or member.status == MemberStatus.ANONYMISED:
                raise NotFoundError(S("Errors", "Member not found."))
            tags = list(
                session.scalars(
                    select(Tag.name)
                    .join(MemberTag, MemberTag.tag_id == Tag.id)
                    .where(MemberTag.member_id == member_id)
                    .order_by(Tag.name)
                )
            )
            referrer = (
                session.scalar(select(Member.phone).where(Member.id == member.referrer_id))
                if member.referrer_id
                else None
            )
            id_number = None
            if member.id_number_enc and self.operator.sees_full_phone:
                id_number = self.cipher.decrypt(member.id_number_enc)
            show = (lambda phone: phone) if self.operator.sees_full_phone else mask_phone
            return MemberForm(
                phone=show(member.phone or ""),
                name=member.name or "",
                gender=member.gender,
                birthday=member.birthday,
                card_no=member.card_no,
                id_number=id_number,
                home_branch_id=member.home_branch_id,
                referrer=show(referrer) if referrer else None,
                tags=tags,
                notes=member.notes,
                membership_consent=member.membership_consent_at is not None,
                marketing_consent=member.marketing_consent,
            )

    def profile(self, member_id: int) -> MemberProfile:
        """The member panel's figures: one statement, on the counter's plain connection like the lookup (on a
        chain's server the driver's)."""
        now = self.clock.now()
        memo = SettingsMemo.of(self.db.memo)
        if self.db.reads_on_driver:
            return self.db.driver_read(lambda driver: load_profile(driver, memo, self.operator, member_id, now))
        return self.db.quick_read(lambda connection: load_profile(connection, memo, self.operator, member_id, now))

    def sales_page(self, member_id: int, offset: int = 0, limit: int = 20) -> Page[SaleRow]:
        with self.db.session() as session:
            return load_sales_page(session, member_id, offset, limit)

    def ledger_page(self, member_id: int, offset: int = 0, limit: int = 20) -> Page[LedgerRow]:
        with self.db.session() as session:
            return load_ledger_page(session, member_id, offset, limit)

    def count(self) -> int:
        with self.db.session() as session:
            return session.scalar(select(func.count()).select_from(Member)) or 0
