"""The demo and the counter keep one book: demo members' histories, replayed through the counter's real services
(purchases with their lines and points, returns, gifts, referrals, the nightly expiry, the tier review), must leave
the same rows the demo wrote — ledger rows, lots, lot uses, sales, tier changes and the member's figures — field by
field. Ids, keys' prefixes and client UUIDs differ by nature; sale ids and member numbers inside reasons are compared
by their place in the member's history."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.bootstrap import ensure_store
from app.clock import FixedClock
from app.context import Store
from app.demo import DemoOptions, generate_demo
from app.integrity import check_database
from app.loyalty.ledger import Posting
from app.loyalty.service import LoyaltyService, PurchaseRequest, SaleLineInput
from app.members.service import MemberForm
from app.paths import DataPaths
from app.security.crypto import FieldCipher
from app.security.operator import Operator
from db.engine import Database
from db.enums import LedgerSource, SaleKind, StaffRole
from db.models import (
    Category,
    Gift,
    GiftRedemption,
    Member,
    PointsLedger,
    PointsLot,
    PointsLotUse,
    Sale,
    SaleLine,
    TierChange,
)

NOW = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
DEMO = DemoOptions(members=400, days=180, seed=5)
REPLAYED = 24
"""Members replayed: the ones with the most kinds of thing in their history."""

WANTED = {"sale", "redemption", "gift", "reversal", "expiry", "referral", "return", "tier", "referred", "lines"}
"""What the replayed histories must hold between them, so the comparison covers every path."""

_EXPIRY, _PURCHASE, _GIFT, _RETURN, _REFERRAL = range(5)
"""At the same moment the nightly expiry comes first, then a purchase, the gift taken with it, a return, a referral."""


@dataclass(frozen=True)
class Event:
    at: dt.datetime
    order: int
    branch_id: int
    staff_id: int | None
    row: Any


@dataclass(frozen=True)
class History:
    """One member's rows, read before any replay (a replay's store-wide expiry may touch other members)."""

    member: Any
    sales: list[Any]
    lines: dict[int, list[Any]]
    ledger: list[Any]
    lots: list[Any]
    lot_uses: list[Any]
    gifts: list[Any]
    tier_changes: list[Any]

    def events(self) -> list[Event]:
        events = [
            Event(s.sold_at, _PURCHASE if s.kind == SaleKind.SALE else _RETURN, s.branch_id, s.staff_id, s)
            for s in self.sales
        ]
        events += [Event(g.created_at, _GIFT, g.branch_id, g.staff_id, g) for g in self.gifts]
        events += [
            Event(e.created_at, _EXPIRY if e.source == LedgerSource.EXPIRY else _REFERRAL, e.branch_id, e.staff_id, e)
            for e in self.ledger
            if e.source in (LedgerSource.EXPIRY, LedgerSource.REFERRAL)
        ]
        return sorted(events, key=lambda e: (e.at, e.order))

    def kinds(self) -> set[str]:
        found = {str(e.source) for e in self.ledger}
        found |= {"return"} if any(s.kind == SaleKind.RETURN for s in self.sales) else set()
        found |= {"tier"} if self.tier_changes else set()
        found |= {"referred"} if self.member.referrer_id is not None and self.sales else set()
        found |= {"lines"} if self.lines else set()
        found |= {"debt"} if any(e.balance_after < 0 for e in self.ledger) else set()
        return found


def read_history(session: Session, member_id: int) -> History:
    def rows(model: Any, *where: Any) -> list[Any]:
        return list(session.scalars(select(model).where(*where).order_by(model.id)))

    sales = rows(Sale, Sale.member_id == member_id)
    lines: dict[int, list[Any]] = {}
    for line in rows(SaleLine, SaleLine.sale_id.in_([s.id for s in sales])):
        lines.setdefault(line.sale_id, []).append(line)
    ledger = rows(PointsLedger, PointsLedger.member_id == member_id)
    history = History(
        member=session.get(Member, member_id),
        sales=sales,
        lines=lines,
        ledger=ledger,
        lots=rows(PointsLot, PointsLot.member_id == member_id),
        lot_uses=rows(PointsLotUse, PointsLotUse.ledger_id.in_([e.id for e in ledger])),
        gifts=rows(GiftRedemption, GiftRedemption.member_id == member_id),
        tier_changes=rows(TierChange, TierChange.member_id == member_id),
    )
    session.expunge_all()
    return history


def reason_of(text: str, sale_place: dict[int, int]) -> str:
    text = re.sub(r"\bsale (\d+)", lambda m: f"sale #{sale_place[int(m.group(1))]}", text)
    return re.sub(r"\bMD\d{8}\b", "MD########", text)


def key_kind(key: str) -> str:
    tail = key.rsplit(":", 1)[-1]
    return tail if tail in ("earn", "redeem", "refund", "points") else ""


def comparable(history: History) -> dict[str, Any]:
    """The member's rows with ids replaced by their place in the member's own history."""
    sale_place = {s.id: i for i, s in enumerate(history.sales)}
    ledger_place = {e.id: i for i, e in enumerate(history.ledger)}
    lot_place = {lot.id: i for i, lot in enumerate(history.lots)}
    m = history.member
    return {
        "member": (
            m.points_balance,
            m.lifetime_spend_fen,
            m.visit_count,
            m.first_visit_at,
            m.last_visit_at,
            m.tier_id,
            m.tier_review_at,
            m.referral_rewarded,
        ),
        "sales": [
            (
                s.kind,
                s.branch_id,
                s.staff_id,
                s.sold_at,
                s.total_fen,
                s.points_used,
                s.points_value_fen,
                s.coupon_discount_fen,
                s.paid_fen,
                s.points_earned,
                None if s.original_sale_id is None else sale_place[s.original_sale_id],
                s.note,
                [
                    (line.product_id, line.category_id, line.description, line.quantity, line.amount_fen)
                    for line in history.lines.get(s.id, [])
                ],
            )
            for s in history.sales
        ],
        "ledger": [
            (
                e.source,
                e.delta,
                e.balance_after,
                reason_of(e.reason, sale_place),
                key_kind(e.idempotency_key),
                e.branch_id,
                e.staff_id,
                e.approved_by_id,
                None if e.sale_id is None else sale_place[e.sale_id],
                e.created_at,
            )
            for e in history.ledger
        ],
        "lots": [
            (ledger_place[lot.ledger_id], lot.earned_at, lot.expires_at, lot.points, lot.remaining)
            for lot in history.lots
        ],
        "lot_uses": [(ledger_place[u.ledger_id], lot_place[u.lot_id], u.points) for u in history.lot_uses],
        "gifts": [
            (g.gift_id, g.quantity, g.points, g.branch_id, g.staff_id, g.created_at, ledger_place[g.ledger_id])
            for g in history.gifts
        ],
        "tier_changes": [
            (t.from_tier_id, t.to_tier_id, t.reason, t.staff_id, t.branch_id, t.created_at)
            for t in history.tier_changes
        ],
    }


class Replay:
    """Drives the counter's services with the clock and the operator of each event."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.phones = iter(f"1990{n:07d}" for n in range(1, 10_000_000))
        taken = set(store.db.read(lambda s: s.scalars(select(Member.phone)).all()))
        self.phones = iter(p for p in self.phones if p not in taken)
        self.categories: dict[int, str] = dict(
            store.db.read(lambda s: s.execute(select(Category.id, Category.code)).all())
        )

    def at(self, when: dt.datetime, branch_id: int, staff_id: int | None) -> LoyaltyService:
        operator = Operator(staff_id, branch_id, StaffRole.MANAGER, "replay")
        return LoyaltyService(self.store.db, operator, FixedClock(when))

    def register(self, referrer_phone: str | None = None) -> tuple[int, str]:
        phone = next(self.phones)
        services = self.store.services(self.store.operator("owner"))
        form = MemberForm(phone=phone, name="对照", membership_consent=True, referrer=referrer_phone)
        return services.members.register(form), phone

    def twin(self, original: History) -> int:
        """A new member who lives the original's history at the counter; returns the twin's id."""
        referrer = self.register()[1] if original.member.referrer_id is not None else None
        twin, phone = self.register(referrer)
        sale_ids: dict[int, int] = {}
        for event in original.events():
            loyalty = self.at(event.at, event.branch_id, event.staff_id)
            row = event.row
            if event.order == _PURCHASE:
                result = loyalty.record_purchase(
                    PurchaseRequest(
                        member_id=twin,
                        total_fen=row.total_fen,
                        idempotency_key=str(uuid.uuid4()),
                        points_to_use=row.points_used,
                        lines=[
                            SaleLineInput(
                                line.amount_fen,
                                self.categories[line.category_id],
                                line.product_id,
                                line.description,
                                line.quantity,
                            )
                            for line in original.lines.get(row.id, [])
                        ],
                        sold_at=event.at,
                    )
                )
                sale_ids[row.id] = result.sale_id
            elif event.order == _RETURN:
                loyalty.return_sale(sale_ids[row.original_sale_id], str(uuid.uuid4()))
            elif event.order == _GIFT:
                loyalty.redeem_gift(twin, row.gift_id, row.quantity, str(uuid.uuid4()))
            elif event.order == _EXPIRY:
                loyalty.expire_points()
            else:  # the twin refers a newcomer, whose first purchase earns the twin the bonus
                newcomer, _phone = self.register(phone)
                loyalty.record_purchase(
                    PurchaseRequest(
                        member_id=newcomer, total_fen=100, idempotency_key=str(uuid.uuid4()), sold_at=event.at
                    )
                )
        self.at(NOW, original.member.home_branch_id, None).review_tiers()
        return twin


def open_store(database: Database, folder: Path) -> Store:
    ensure_store(database)
    paths = DataPaths(folder).ensure()
    return Store(paths, database, FieldCipher.from_key_file(paths.key_file), FixedClock(NOW))


@pytest.fixture
def demo_store(database: Database, tmp_path: Path) -> Store:
    store = open_store(database, tmp_path / "data")
    # Points that last two months, so a 180-day demo has expiry runs to compare.
    store.services(store.operator("owner")).settings.update({"points.expiry_months": 2})
    generate_demo(store, DEMO, lambda _done, _total, _what: True)
    return store


def chosen_members(store: Store) -> list[History]:
    ids: list[int] = store.db.read(lambda s: list(s.scalars(select(Member.id).order_by(Member.id))))
    histories = [store.db.read(lambda s, member_id=member_id: read_history(s, member_id)) for member_id in ids]
    richest = sorted(histories, key=lambda h: (-len(h.kinds()), -len(h.ledger)))
    chosen = [
        next(h for h in richest if kind in h.kinds())
        for kind in sorted(WANTED)
        if any(kind in h.kinds() for h in richest)
    ]
    chosen += [h for h in richest if h not in chosen][: REPLAYED - len(chosen)]
    with store.db.engine.begin() as conn:  # the demo's members emptied some shelves; the twins want the same gifts
        conn.execute(update(Gift).values(stock=Gift.stock + 10_000))
    return chosen


def replay_and_compare(store: Store, chosen: list[History]) -> None:
    replay = Replay(store)
    for original in chosen:
        twin = replay.twin(original)
        again = store.db.read(lambda s, twin=twin: read_history(s, twin))
        expected, got = comparable(original), comparable(again)
        for part in expected:
            assert got[part] == expected[part], f"member {original.member.id}: {part} differ"


def test_the_counter_replays_demo_members_row_for_row(demo_store: Store) -> None:
    chosen = chosen_members(demo_store)
    covered: set[str] = set().union(*(h.kinds() for h in chosen))
    assert covered >= WANTED, covered
    replay_and_compare(demo_store, chosen)
    assert check_database(demo_store.db) == []


def test_a_counter_that_drifts_from_the_demo_fails_the_comparison(
    demo_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The counter's old reason for earned points ("purchase" where the demo writes "sale {id}") is caught."""
    import app.loyalty.purchases as purchases

    def old_reason(**fields: Any) -> Posting:
        if fields["source"] == LedgerSource.SALE:
            fields["reason"] = "purchase"
        return Posting(**fields)

    monkeypatch.setattr(purchases, "Posting", old_reason)
    chosen = [h for h in chosen_members(demo_store) if "sale" in h.kinds()][:1]
    with pytest.raises(AssertionError, match="ledger differ"):
        replay_and_compare(demo_store, chosen)
