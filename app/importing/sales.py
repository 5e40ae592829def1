"""`sales import`: purchase logs from a till or an old system.

Each row names its member by `member_no`, `card_no` or `phone`. A row whose member is unknown is refused, unless
`create_missing`, which creates the member keeping the file's member number. Each row gets an idempotency key (its
receipt number and branch, or a digest of its member, time, amount and how many identical rows came before it), so
the same file imported twice records nothing twice. By default imported sales earn no points (the old system already
paid them); with `earn_points` each row goes through the counter's own `record_purchase`, rules and all.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from app.clock import Clock
from app.errors import MemberDeskError, ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.importing.members import BATCH, ImportReport, RefusedRow, batched, parse_time
from app.importing.tables import SALES_COLUMNS, Row, read_table
from app.insights.aggregates import recount_members
from app.loyalty.service import LoyaltyService, PurchaseRequest
from app.loyalty.tiers import evaluate_tier
from app.members.validation import normalize_card_no, normalize_phone
from app.money import parse_yuan
from app.security.operator import Operator, require_role
from app.settings import read_settings
from app.trust.audit import record_audit, row_marks, tie_new_rows
from db.engine import Database
from db.enums import MemberStatus, SaleKind, StaffRole
from db.models import Branch, Member, Sale, Tier

Progress = Callable[[int, int, str], bool]


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
        tz = ZoneInfo(settings.store_timezone)
        report = ImportReport()
        occurrences: Counter[str] = Counter()
        done = 0
        for batch in batched(rows, BATCH):
            parsed: list[SaleRowIn] = []
            for row in batch:
                try:
                    parsed.append(self._parse(row, tz, branches, occurrences))
                except ValidationError as exc:
                    report.refused.append(RefusedRow(row.line, str(exc)))
            if earn_points:
                self._earn_batch(parsed, create_missing, report)
            else:
                self.db.write(partial(self._plain_batch, parsed=parsed, create_missing=create_missing, report=report))
            done += len(batch)
            if progress is not None and not progress(done, max(done, size_hint), "sales"):
                break
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

    def _parse(self, row: Row, tz: ZoneInfo, branches: dict[str, int], occurrences: Counter[str]) -> SaleRowIn:
        v = row.values
        if v.get("member_no"):
            member_key = ("member_no", v["member_no"].strip().upper())
        elif v.get("card_no"):
            member_key = ("card_no", normalize_card_no(v["card_no"], ""))
        elif v.get("phone"):
            member_key = ("phone", normalize_phone(v["phone"]))
        else:
            raise ValidationError(S("Errors", "The row names no member (member_no, card_no or phone)."))
        sold_at = parse_time(v.get("time", ""), tz, "time")
        if sold_at is None:
            raise ValidationError(S("Errors", "The row has no time."))
        if sold_at > self.clock.now():
            raise ValidationError(S("Errors", "A date lies in the future or before 1900."))
        total = parse_yuan(v.get("amount", ""))
        if total > 100_000_000:  # ¥0 is a real purchase in a log (a fully discounted basket): it records the visit
            raise ValidationError(S("Errors", "The amount must be more than ¥0 and at most ¥1,000,000."))
        branch_text = v.get("branch", "").strip().lower()
        branch_id = branches.get(branch_text) if branch_text else self.operator.branch_id
        if branch_id is None:
            raise ValidationError(S("Errors", "Unknown branch: {value}"), value=v["branch"])
        receipt = v.get("receipt_no", "").strip()[:40] or None
        if receipt:
            key = f"import-sale:{branch_id}:{receipt}"
        else:
            basis = f"{member_key[0]}={member_key[1]}|{sold_at.isoformat()}|{total}"
            occurrences[basis] += 1
            key = "import-sale:" + hashlib.sha1(f"{basis}|{occurrences[basis]}".encode()).hexdigest()
        return SaleRowIn(row.line, member_key, sold_at, total, receipt, branch_id, key)

    def _resolve(
        self, session: Session, parsed: list[SaleRowIn], create_missing: bool, report: ImportReport
    ) -> dict[tuple[str, str], int]:
        found: dict[tuple[str, str], int] = {}
        for kind in ("member_no", "card_no", "phone"):
            values = {r.member_key[1] for r in parsed if r.member_key[0] == kind}
            if values:
                column = getattr(Member, kind)
                found.update(
                    {
                        (kind, value): mid
                        for value, mid in session.execute(
                            select(column, Member.id).where(
                                column.in_(values), Member.status != MemberStatus.ANONYMISED
                            )
                        )
                    }
                )
        missing = sorted({r.member_key for r in parsed} - found.keys())
        if missing and create_missing:
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
            ids = [
                r[0] for r in session.execute(insert(Member).returning(Member.id, sort_by_parameter_order=True), rows)
            ]
            renumber = [
                {"id": mid, "member_no": f"MD{mid:08d}"}
                for mid, (kind, _v) in zip(ids, missing, strict=True)
                if kind != "member_no"
            ]
            if renumber:
                session.execute(update(Member), renumber)
            found.update(dict(zip(missing, ids, strict=True)))
        for r in parsed:
            if r.member_key not in found:
                report.refused.append(RefusedRow(r.line, f"member not found: {r.member_key[1]}"))
        return found

    def _plain_batch(
        self, session: Session, parsed: list[SaleRowIn], create_missing: bool, report: ImportReport
    ) -> None:
        members = self._resolve(session, parsed, create_missing, report)
        rows = [r for r in parsed if r.member_key in members]
        keys = [r.key for r in rows]
        seen = set(session.scalars(select(Sale.idempotency_key).where(Sale.idempotency_key.in_(keys))))
        receipts = {(r.branch_id, r.receipt_no) for r in rows if r.receipt_no}
        if receipts:
            seen_receipts = set(
                session.execute(
                    select(Sale.branch_id, Sale.receipt_no).where(
                        or_(*[(Sale.branch_id == b) & (Sale.receipt_no == n) for b, n in receipts])
                    )
                ).all()
            )
            seen |= {r.key for r in rows if (r.branch_id, r.receipt_no) in seen_receipts}
        fresh = [r for r in rows if r.key not in seen]
        report.already_there += len(rows) - len(fresh)
        if not fresh:
            return
        tie_new_rows(session, self.operator, row_marks(session))
        session.execute(
            insert(Sale),
            [
                {
                    "client_uuid": str(uuid.uuid4()),
                    "idempotency_key": r.key,
                    "kind": SaleKind.SALE,
                    "member_id": members[r.member_key],
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
                    "note": "imported",
                    "created_at": self.clock.now(),
                }
                for r in fresh
            ],
        )
        report.imported += len(fresh)
        self._update_members(session, fresh, members)
        record_audit(session, self.operator, "import_batch", "sales", None, {"sales": len(fresh)})
        recount_members(
            session.connection(), {members[r.member_key] for r in fresh}, read_settings(session).store_timezone
        )

    def _update_members(self, session: Session, fresh: list[SaleRowIn], members: dict[tuple[str, str], int]) -> None:
        per_member: dict[int, list[SaleRowIn]] = {}
        for r in fresh:
            per_member.setdefault(members[r.member_key], []).append(r)
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

    def _earn_batch(self, parsed: list[SaleRowIn], create_missing: bool, report: ImportReport) -> None:
        members = self.db.write(lambda s: self._resolve(s, parsed, create_missing, report))
        for r in parsed:
            if r.member_key not in members:
                continue
            operator = dataclasses.replace(self.operator, branch_id=r.branch_id)
            try:
                result = LoyaltyService(self.db, operator, self.clock).record_purchase(
                    PurchaseRequest(
                        member_id=members[r.member_key],
                        total_fen=r.total_fen,
                        idempotency_key=r.key,
                        receipt_no=r.receipt_no,
                        sold_at=r.sold_at,
                        note="imported",
                    )
                )
            except MemberDeskError as exc:
                report.refused.append(RefusedRow(r.line, str(exc)))
                continue
            if result.replayed:
                report.already_there += 1
            else:
                report.imported += 1
