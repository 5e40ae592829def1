"""`sales import`: purchase logs from a till or an old system.

Each row names its member by `member_no`, `card_no` or `phone`. A row whose member is unknown is refused, unless
`create_missing`, which creates the member keeping the file's member number. Each row gets an idempotency key (its
receipt number and branch, or a digest of its member, time, amount and how many identical rows came before it), so
the same file imported twice records nothing twice. A receipt number is the sale's identity: seen again with the
same member and amount (later in the file, or in an earlier import) it is counted as already there; with another
member or amount it is refused as a conflict naming both lines. By default imported sales earn no points (the old
system already paid them); with `earn_points` each row goes through the counter's own `record_purchase`, rules
and all.

Every row is accounted for: imported, already there, or refused with its line and reason. Duplicate checks ask the
database in chunks (db.bulk.select_in), so a file of a million receipts needs no giant statement.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from app.clock import Clock
from app.errors import MemberDeskError, ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate
from app.importing.cells import parse_time
from app.importing.report import BATCH, ImportCancelled, ImportReport, RefusedRow, batched, stopped_on_failure
from app.importing.tables import SALES_COLUMNS, Row, read_table
from app.insights.aggregates import recount_members
from app.loyalty.service import LoyaltyService, PurchaseRequest
from app.loyalty.tiers import evaluate_tier
from app.members.numbers import member_no_for
from app.members.validation import clean_member_no, fold_width, normalize_card_no, normalize_phone
from app.money import format_yuan, parse_yuan
from app.security.operator import Operator, require_role
from app.settings import read_settings
from app.trust.audit import record_audit, row_marks, tie_new_rows
from db import day_totals, spend_months
from db.bulk import select_in
from db.day_totals import SaleFact
from db.engine import Database
from db.enums import MemberStatus, SaleKind, StaffRole
from db.models import Branch, Member, Sale, Tier

Progress = Callable[[int, int, str], bool]
RECEIPT_MAX = 40
AMOUNT_MAX_FEN = 100_000_000
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
_LIVE = f"status != '{MemberStatus.ANONYMISED.value}'"


@dataclass(frozen=True)
class SaleRowIn:
    line: int
    member_key: tuple[str, str]
    """('member_no' | 'card_no' | 'phone', value)."""
    sold_at: dt.datetime
    total_fen: int
    receipt_no: str | None
    branch_id: int
    key: str


@dataclass(frozen=True)
class _Recorded:
    """A sale already stored under a row's key or receipt, to compare the row with."""

    member_id: int | None
    total_fen: int
    note: str | None


class SalesImporter:
    def __init__(self, db: Database, operator: Operator, clock: Clock) -> None:
        self.db = db
        self.operator = operator
        self.clock = clock

    def run(
        self, path: Path, *, create_missing: bool = False, earn_points: bool = False, progress: Progress | None = None
    ) -> ImportReport:
        require_role(self.operator, StaffRole.MANAGER)
        columns, rows, size_hint = read_table(path, SALES_COLUMNS)
        if not {"member_no", "card_no", "phone"} & set(columns) or not {"time", "amount"} <= set(columns):
            raise ValidationError(S("Errors", "A sales file needs member_no, card_no or phone, and time and amount."))
        settings = self.db.read(read_settings)
        branches = self.db.read(
            lambda s: {
                k.lower(): i for c, n, i in s.execute(select(Branch.code, Branch.name, Branch.id)) for k in (c, n)
            }
        )
        reader = _RowReader(ZoneInfo(settings.store_timezone), branches, self.operator, self.clock.now())
        source = path.name[:120]
        report = ImportReport()
        what = translate("Import", S("Import", "Sales"))
        with stopped_on_failure(report):
            for batch in batched(rows, BATCH):
                parsed: list[SaleRowIn] = []
                refused: list[RefusedRow] = []
                for row in batch:
                    try:
                        parsed.append(reader.parse(row))
                    except ValidationError as exc:
                        refused.append(RefusedRow(row.line, str(exc)))
                if earn_points:
                    self._earn_batch(parsed, refused, len(batch), create_missing, reader, source, report)
                else:
                    work = partial(self._plain_batch, parsed=parsed, refused=refused, rows=len(batch))
                    report.add(
                        self.db.write(partial(work, create_missing=create_missing, reader=reader, source=source))
                    )
                if progress is not None and not progress(report.rows, max(report.rows, size_hint), what):
                    raise ImportCancelled(S("Errors", "Import cancelled; rows already committed stay imported."))
        report.refused.sort(key=lambda r: r.line)
        self.db.write(
            lambda s: record_audit(
                s,
                self.operator,
                "import",
                "sales",
                None,
                {
                    "file": path.name,
                    "imported": report.imported,
                    "already": report.already_there,
                    "refused": len(report.refused),
                    "earn_points": earn_points,
                },
            )
        )
        return report

    # ---- which rows are new -------------------------------------------------------------------------------
    def _judge(
        self, session: Session, parsed: list[SaleRowIn], create_missing: bool, reader: _RowReader, out: ImportReport
    ) -> list[tuple[SaleRowIn, int]]:
        """The rows to record with their member ids; the rest counted as already there or refused into `out`."""
        members = self._resolve(session, parsed, create_missing, out)
        conn = session.connection()
        by_key = {
            key: _Recorded(mid, total, note)
            for key, mid, total, note in select_in(
                conn,
                "SELECT idempotency_key, member_id, total_fen, note FROM sales WHERE idempotency_key IN ({values})",
                [r.key for r in parsed if r.member_key in members],
            )
        }
        by_receipt = {
            (branch, receipt): _Recorded(mid, total, note)
            for branch, receipt, mid, total, note in select_in(
                conn,
                "SELECT branch_id, receipt_no, member_id, total_fen, note FROM sales WHERE receipt_no IN ({values})",
                sorted({r.receipt_no for r in parsed if r.receipt_no and r.member_key in members}),
            )
        }
        fresh: list[tuple[SaleRowIn, int]] = []
        for r in parsed:
            member_id = members.get(r.member_key)
            if member_id is None:
                continue
            problem = reader.repeated(r)
            recorded = by_key.get(r.key) or (by_receipt.get((r.branch_id, r.receipt_no)) if r.receipt_no else None)
            if problem is None and recorded is not None:
                if recorded.member_id == member_id and recorded.total_fen == r.total_fen:
                    out.already_there += 1
                    continue
                problem = ValidationError(
                    S("Errors", "Receipt {receipt} is already recorded ({earlier}) for {amount} with another member."),
                    receipt=r.receipt_no or "",
                    earlier=recorded.note or "",
                    amount=format_yuan(recorded.total_fen),
                )
                if recorded.member_id == member_id:
                    problem = ValidationError(
                        S("Errors", "Receipt {receipt} is already recorded ({earlier}) with another amount: {amount}."),
                        receipt=r.receipt_no or "",
                        earlier=recorded.note or "",
                        amount=format_yuan(recorded.total_fen),
                    )
            if problem is not None:
                out.refused.append(RefusedRow(r.line, str(problem)))
            elif reader.first_line(r) != r.line:
                out.already_there += 1  # the same sale listed twice in the file
            else:
                fresh.append((r, member_id))
        return fresh

    def _resolve(
        self, session: Session, parsed: list[SaleRowIn], create_missing: bool, out: ImportReport
    ) -> dict[tuple[str, str], int]:
        conn = session.connection()
        found: dict[tuple[str, str], int] = {}
        for kind in ("member_no", "card_no", "phone"):
            values = sorted({r.member_key[1] for r in parsed if r.member_key[0] == kind})
            query = f"SELECT {kind}, id FROM members WHERE {_LIVE} AND {kind} IN ({{values}})"
            found.update({(kind, value): mid for value, mid in select_in(conn, query, values)})
        missing = sorted({r.member_key for r in parsed} - found.keys())
        if missing and create_missing:
            found.update(self._create(session, missing))
        not_found = translate("Errors", S("Errors", "Member not found: {value}"))
        for r in parsed:
            if r.member_key not in found:
                out.refused.append(RefusedRow(r.line, not_found.format(value=r.member_key[1])))
        return found

    def _create(self, session: Session, missing: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        lowest = session.scalar(select(Tier.id).order_by(Tier.rank).limit(1))
        now = self.clock.now()
        rows = [
            {
                "member_no": value if kind == "member_no" else f"T{uuid.uuid4().hex[:20]}",
                "card_no": value if kind == "card_no" else None,
                "phone": value if kind == "phone" else None,
                "phone_last4": value[-4:] if kind == "phone" else None,
                "client_uuid": str(uuid.uuid4()),
                "tier_id": lowest,
                "home_branch_id": self.operator.branch_id,
                "status": MemberStatus.ACTIVE,
                "joined_at": now,
                "updated_at": now,
                "points_balance": 0,
                "lifetime_spend_fen": 0,
                "visit_count": 0,
                "marketing_consent": False,
                "referral_rewarded": False,
                "created_by_id": self.operator.staff_id,
                "gender": "unknown",
            }
            for kind, value in missing
        ]
        ids = [r[0] for r in session.execute(insert(Member).returning(Member.id, sort_by_parameter_order=True), rows)]
        renumber = [
            {"id": mid, "member_no": member_no_for(mid)}
            for mid, (kind, _v) in zip(ids, missing, strict=True)
            if kind != "member_no"
        ]
        if renumber:
            session.execute(update(Member), renumber)
        return dict(zip(missing, ids, strict=True))

    # ---- recording ----------------------------------------------------------------------------------------
    def _plain_batch(
        self,
        session: Session,
        parsed: list[SaleRowIn],
        refused: list[RefusedRow],
        rows: int,
        create_missing: bool,
        reader: _RowReader,
        source: str,
    ) -> ImportReport:
        """The batch's new sales inserted as they are (no points), in the same transaction as their judging."""
        out = ImportReport(refused=list(refused), rows=rows)
        fresh = self._judge(session, parsed, create_missing, reader, out)
        if fresh:
            self._store(session, fresh, source)
            out.imported += len(fresh)
        return out

    def _store(self, session: Session, fresh: list[tuple[SaleRowIn, int]], source: str) -> None:
        now = self.clock.now()
        tie_new_rows(session, self.operator, row_marks(session))  # the batch's entry vouches for its sales
        session.execute(
            insert(Sale),
            [
                {
                    "client_uuid": str(uuid.uuid4()),
                    "idempotency_key": r.key,
                    "kind": SaleKind.SALE,
                    "member_id": member_id,
                    "branch_id": r.branch_id,
                    "staff_id": self.operator.staff_id,
                    "receipt_no": r.receipt_no,
                    "sold_at": r.sold_at,
                    "total_fen": r.total_fen,
                    "points_used": 0,
                    "points_value_fen": 0,
                    "coupon_discount_fen": 0,
                    "paid_fen": r.total_fen,
                    "points_earned": 0,
                    "note": _note(source, r.line),
                    "created_at": now,
                }
                for r, member_id in fresh
            ],
        )
        self._update_members(session, fresh)
        record_audit(session, self.operator, "import_batch", "sales", None, {"sales": len(fresh)})
        timezone = read_settings(session).store_timezone
        recount_members(session.connection(), {member_id for _r, member_id in fresh}, timezone)
        spend_months.recount_members(session.connection(), {member_id for _r, member_id in fresh}, timezone)
        day_totals.add_sales(
            session.connection(),
            (
                SaleFact(r.sold_at, r.branch_id, self.operator.staff_id, False, True, False, r.total_fen)
                for r, _m in fresh
            ),
            timezone,
        )

    def _update_members(self, session: Session, fresh: list[tuple[SaleRowIn, int]]) -> None:
        per_member: dict[int, list[SaleRowIn]] = {}
        for r, member_id in fresh:
            per_member.setdefault(member_id, []).append(r)
        current = {m.id: m for m in session.scalars(select(Member).where(Member.id.in_(per_member)))}
        settings = read_settings(session)
        now = self.clock.now()
        for member_id, sales in per_member.items():
            member = current[member_id]
            first = min(s.sold_at for s in sales)
            last = max(s.sold_at for s in sales)
            member.lifetime_spend_fen += sum(s.total_fen for s in sales)
            member.visit_count += len(sales)
            member.first_visit_at = min(first, member.first_visit_at) if member.first_visit_at else first
            member.last_visit_at = max(last, member.last_visit_at) if member.last_visit_at else last
        session.flush()
        for member in current.values():
            evaluate_tier(session, self.operator, member, now, settings)

    def _earn_batch(
        self,
        parsed: list[SaleRowIn],
        refused: list[RefusedRow],
        rows: int,
        create_missing: bool,
        reader: _RowReader,
        source: str,
        report: ImportReport,
    ) -> None:
        """Each new row through the counter's own purchase, a transaction each. Every row is counted into `report`
        as soon as what became of it is committed, so a failure part-way reports exactly that."""
        judged = ImportReport(refused=list(refused), rows=rows)
        fresh = self.db.write(lambda s: self._judge(s, parsed, create_missing, reader, judged))
        judged.rows -= len(fresh)
        report.add(judged)
        for r, member_id in fresh:
            operator = dataclasses.replace(self.operator, branch_id=r.branch_id)
            try:
                result = LoyaltyService(self.db, operator, self.clock).record_purchase(
                    PurchaseRequest(
                        member_id=member_id,
                        total_fen=r.total_fen,
                        idempotency_key=r.key,
                        receipt_no=r.receipt_no,
                        sold_at=r.sold_at,
                        note=_note(source, r.line),
                    )
                )
            except MemberDeskError as exc:
                report.refused.append(RefusedRow(r.line, str(exc)))
            else:
                if result.replayed:
                    report.already_there += 1
                else:
                    report.imported += 1
            report.rows += 1


def _note(source: str, line: int) -> str:
    return f"imported: {source} line {line}"


class _RowReader:
    """Judges one row at a time and remembers, for the whole file, where each key was first seen."""

    def __init__(self, tz: ZoneInfo, branches: dict[str, int], operator: Operator, now: dt.datetime) -> None:
        self.tz = tz
        self.branches = branches
        self.operator = operator
        self.now = now
        self.occurrences: Counter[str] = Counter()
        self.first: dict[str, SaleRowIn] = {}

    def parse(self, row: Row) -> SaleRowIn:
        if row.problem:
            raise ValidationError(S("Errors", "The line cannot be read: {reason}"), reason=row.problem)
        v = row.values
        member_key = self._member_key(v)
        sold_at = parse_time(v.get("time", ""), self.tz, "time", now=self.now)
        if sold_at is None:
            raise ValidationError(S("Errors", "The row has no time."))
        total = parse_yuan(v.get("amount", ""))
        if total > AMOUNT_MAX_FEN:  # ¥0 is a real purchase in a log (a fully discounted basket): it records the visit
            raise ValidationError(S("Errors", "The amount must be from ¥0 to ¥1,000,000."), field="amount")
        branch_text = v.get("branch", "").strip().lower()
        branch_id = self.branches.get(branch_text) if branch_text else self.operator.branch_id
        if branch_id is None:
            raise ValidationError(S("Errors", "Unknown branch: {value}"), value=v["branch"][:40])
        receipt = fold_width(v.get("receipt_no", "")).strip().upper() or None
        if receipt is not None and len(receipt) > RECEIPT_MAX:
            raise ValidationError(S("Errors", "A receipt number has at most 40 characters."), field="receipt_no")
        if receipt is not None and _SPACE_OR_CONTROL.search(receipt):
            raise ValidationError(S("Errors", "A receipt number may hold no spaces or control characters."))
        if receipt:
            key = f"import-sale:{branch_id}:{receipt}"
        else:
            basis = f"{member_key[0]}={member_key[1]}|{sold_at.isoformat()}|{total}"
            self.occurrences[basis] += 1
            key = "import-sale:" + hashlib.sha1(f"{basis}|{self.occurrences[basis]}".encode()).hexdigest()
        sale = SaleRowIn(row.line, member_key, sold_at, total, receipt, branch_id, key)
        self.first.setdefault(key, sale)
        return sale

    @staticmethod
    def _member_key(v: dict[str, str]) -> tuple[str, str]:
        if v.get("member_no"):
            return ("member_no", clean_member_no(v["member_no"]))
        if v.get("card_no"):
            return ("card_no", normalize_card_no(v["card_no"], ""))
        if v.get("phone"):
            return ("phone", normalize_phone(v["phone"]))
        raise ValidationError(S("Errors", "The row names no member (member_no, card_no or phone)."))

    def first_line(self, sale: SaleRowIn) -> int:
        return self.first[sale.key].line

    def repeated(self, sale: SaleRowIn) -> ValidationError | None:
        """A conflict when an earlier line of the file has this sale's receipt with another member or amount."""
        first = self.first[sale.key]
        if first.line == sale.line or (first.member_key, first.total_fen) == (sale.member_key, sale.total_fen):
            return None
        return ValidationError(
            S("Errors", "Receipt {receipt} is also on line {line}, with another member or amount."),
            receipt=sale.receipt_no or "",
            line=first.line,
        )
