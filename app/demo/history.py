"""A member's whole history worked out in memory and emitted as rows, so a million members need no ORM round trips.

Every rule is the loyalty package's own: purchases are priced by app.loyalty.pricing, points move and tiers are
decided by the book (app.loyalty.book) — the same code the counter's ledger runs — with each member's account kept
in memory, one member at a time, in time order. This module only decides what members do (when they use points,
take a gift, return something) and writes the rows the counter's services would write for it, with the same
reasons and keys' shapes; tests/test_differential.py replays demo members through the real service and compares.
Ids are assigned here, so sales, ledger rows, lots and lot uses can point at each other before anything is written.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.demo.calendar import ShoppingCalendar
from app.demo.people import Person, Visit
from app.demo.shop import GiftRow, Shop
from app.loyalty.book import Account, Lot, TierLadder, TierRule, refund_expiry
from app.loyalty.pricing import price_purchase
from app.loyalty.rules import expiry_for
from app.loyalty.tiers import YEAR
from app.members.numbers import member_no_for
from app.members.validation import make_card_no
from app.security.crypto import FieldCipher
from db.enums import LedgerSource, MemberStatus, SaleKind
from db.models import Tier

EXPIRY_JOB_DELAY = 2 * 3600
"""The nightly expiry job runs two hours after the lots' midnight."""
GIFT_RATE = 0.04
"""Chance a member who can afford a gift takes one on a visit."""
POINTS_HABIT = (0.08, 0.35)
"""Chance a member pays part of a purchase with points when they have at least ¥5 worth: usual, price-sensitive."""
MIN_POINTS_TO_USE_FEN = 500
COMPLAINT_RATE = 0.0005
"""Complaints per purchase. The last ten days' rate is twenty times higher so the desk has open cases to show,
as a live store's has (older complaints are resolved and closed)."""
RECENT_COMPLAINT_RATE = 0.01
RECENT_DAYS = 10

MEMBER_COLUMNS = (
    "id", "client_uuid", "member_no", "card_no", "phone", "phone_last4", "name", "pinyin_initials", "pinyin_full",
    "gender", "birthday", "birthday_mmdd", "id_number_enc", "id_number_hash", "tier_id", "tier_review_at",
    "home_branch_id", "referrer_id", "referral_rewarded", "membership_consent_at", "marketing_consent",
    "marketing_consent_at", "status", "notes", "points_balance", "lifetime_spend_fen", "visit_count",
    "first_visit_at", "last_visit_at", "joined_at", "created_by_id", "updated_at",
)  # fmt: skip
MEMBER_TAG_COLUMNS = ("member_id", "tag_id")
SALE_COLUMNS = (
    "id", "client_uuid", "idempotency_key", "kind", "member_id", "branch_id", "staff_id", "receipt_no", "sold_at",
    "total_fen", "points_used", "points_value_fen", "coupon_id", "coupon_discount_fen", "paid_fen", "points_earned",
    "original_sale_id", "note", "created_at",
)  # fmt: skip
SALE_LINE_COLUMNS = ("id", "sale_id", "product_id", "category_id", "description", "quantity", "amount_fen")
LEDGER_COLUMNS = (
    "id", "client_uuid", "idempotency_key", "member_id", "branch_id", "staff_id", "approved_by_id", "source",
    "delta", "balance_after", "reason", "sale_id", "created_at",
)  # fmt: skip
LOT_COLUMNS = ("id", "member_id", "ledger_id", "earned_at", "expires_at", "points", "remaining")
LOT_USE_COLUMNS = ("id", "ledger_id", "lot_id", "points")
GIFT_REDEMPTION_COLUMNS = (
    "id", "client_uuid", "idempotency_key", "gift_id", "member_id", "ledger_id", "quantity", "points", "branch_id",
    "staff_id", "created_at",
)  # fmt: skip
TIER_CHANGE_COLUMNS = ("id", "member_id", "from_tier_id", "to_tier_id", "reason", "staff_id", "branch_id", "created_at")

_PURCHASE, _RETURN, _REFERRAL = 0, 1, 2
"""Kinds of event in a member's history; at the same moment a purchase comes before a return or a referral."""

ID_TABLES = (
    "members", "sales", "sale_lines", "points_ledger", "points_lots", "points_lot_uses", "gift_redemptions",
    "tier_changes",
)  # fmt: skip


def uuid4_text(bits: int) -> str:
    """`str(uuid.UUID(int=bits, version=4))` in less than half the time (there are millions of them)."""
    bits = (bits & ~(0xF000 << 64) | (4 << 76)) & ~(0xC000 << 48) | (0x8000 << 48)
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class Ids:
    """The next free id of each table the generator fills."""

    def __init__(self, next_ids: dict[str, int]) -> None:
        self.next = dict(next_ids)

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


@dataclass
class Rows:
    """One batch of rows, in each table's column order, ready for executemany."""

    members: list[tuple[Any, ...]] = field(default_factory=list)
    member_tags: list[tuple[Any, ...]] = field(default_factory=list)
    sales: list[tuple[Any, ...]] = field(default_factory=list)
    sale_lines: list[tuple[Any, ...]] = field(default_factory=list)
    ledger: list[tuple[Any, ...]] = field(default_factory=list)
    lots: list[tuple[Any, ...]] = field(default_factory=list)
    lot_uses: list[tuple[Any, ...]] = field(default_factory=list)
    gift_redemptions: list[tuple[Any, ...]] = field(default_factory=list)
    tier_changes: list[tuple[Any, ...]] = field(default_factory=list)
    gifts_taken: dict[int, int] = field(default_factory=dict)

    def tables(self) -> list[tuple[str, tuple[str, ...], list[tuple[Any, ...]]]]:
        """In foreign-key order."""
        return [
            ("members", MEMBER_COLUMNS, self.members),
            ("member_tags", MEMBER_TAG_COLUMNS, self.member_tags),
            ("sales", SALE_COLUMNS, self.sales),
            ("sale_lines", SALE_LINE_COLUMNS, self.sale_lines),
            ("points_ledger", LEDGER_COLUMNS, self.ledger),
            ("points_lots", LOT_COLUMNS, self.lots),
            ("points_lot_uses", LOT_USE_COLUMNS, self.lot_uses),
            ("gift_redemptions", GIFT_REDEMPTION_COLUMNS, self.gift_redemptions),
            ("tier_changes", TIER_CHANGE_COLUMNS, self.tier_changes),
        ]


@dataclass
class Totals:
    """What the summary reports."""

    members: int = 0
    marketing: int = 0
    referred: int = 0
    sales: int = 0
    returns: int = 0
    spend_fen: int = 0
    points_earned: int = 0
    points_used: int = 0
    points_expired: int = 0
    gift_redemptions: int = 0
    tiers: dict[str, int] = field(default_factory=dict)


LotRow = tuple[Lot[int], int, int, Any, Any]
"""A lot the member had, with what its row needs besides the book's lot: ledger id, points, stored times."""


class _Member:
    """One member's running state while their history is replayed: the book's account and the tier's window."""

    __slots__ = ("account", "home", "lots", "member_id", "points_12m", "review_at", "spend_12m", "tier", "window")

    def __init__(self, member_id: int, home: int, tier: Tier) -> None:
        self.member_id = member_id
        self.home = home
        self.account: Account[int] = Account()
        self.lots: list[LotRow] = []
        """Every lot the member ever had, for the rows."""
        self.tier = tier
        self.review_at: int | None = None
        self.window: deque[tuple[int, int, int]] = deque()
        self.spend_12m = 0
        self.points_12m = 0


@dataclass(frozen=True)
class _Sold:
    """What a return needs to know about the purchase it reverses."""

    sale_id: int
    visit: Visit
    points_used: int
    points_value_fen: int
    paid_fen: int
    points_earned: int
    earn_lot: Lot[int] | None
    redeemed_from: list[tuple[Lot[int], int]]
    """(lot, points) the points used were taken from."""


@dataclass(frozen=True)
class Referral:
    """A referred member's first purchase, which earns their referrer the bonus."""

    at: int
    member_id: int
    member_no: str
    branch_id: int
    staff_id: int


class HistoryBuilder:
    """Turns drawn people into rows. Keeps gift stock and totals across batches."""

    def __init__(
        self,
        seed: int,
        shop: Shop,
        calendar: ShoppingCalendar,
        ids: Ids,
        stamp: Callable[[int], Any],
        day_value: Callable[[Any], Any],
        cipher: FieldCipher,
        pinyin: Callable[[str], tuple[str, str]],
        taken_cards: set[str],
    ) -> None:
        self.seed = seed
        self.shop = shop
        self.calendar = calendar
        self.ids = ids
        self.stamp = stamp
        self.day_value = day_value
        self.cipher = cipher
        self.pinyin = pinyin
        self.taken_cards = taken_cards
        """Card numbers already held in the store (a forced demo): such a member gets no card rather than a clash."""
        self.uuid_rng = random.Random(f"{seed}:client-uuids")
        self.totals = Totals()
        self.gift_stock = {gift.id: gift.stock for gift in shop.gifts}
        settings = shop.settings
        self.basis: str = settings.tiers_basis
        self.review_seconds = 30 * 86400 * settings.tiers_review_months
        self.referral_bonus: int = settings.referral_bonus_points
        self.card_prefix: str = settings.cards_prefix
        self.year_seconds = int(YEAR.total_seconds())
        self.ladder = TierLadder(
            [TierRule(t.id, t.rank, t.min_spend_12m_fen, t.min_points_12m, t.earn_multiplier_pct) for t in shop.tiers],
            self.basis,
        )
        self.tier_by_id = {tier.id: tier for tier in shop.tiers}
        self.day_pct = [shop.earn.multiplier_pct(calendar.noon(d)) for d in range(calendar.days)]
        self.expiry = [_epoch(expiry_for(calendar.noon(d), settings)) for d in range(calendar.days)]
        self.now = calendar.now
        self.recent = calendar.now - RECENT_DAYS * 86400
        self.now_value = stamp(calendar.now)
        self._last_at, self._last_value = -1, None
        self._expiry_values: dict[int, Any] = {}
        self.rows = Rows()
        self.complaint_candidates: list[tuple[int, int, int, int]] = []
        """(member id, sale id, branch id, Unix seconds) of purchases a member later complains about."""

    def _stamp(self, at: int) -> Any:
        """`stamp`, remembering the last moment: a purchase's sale, ledger rows and lot share one."""
        if at != self._last_at:
            self._last_at, self._last_value = at, self.stamp(at)
        return self._last_value

    def _expiry_value(self, expires: int) -> Any:
        value = self._expiry_values.get(expires)
        if value is None:
            value = self._expiry_values[expires] = self.stamp(expires)
        return value

    def _uuid(self, row_id: int) -> str:
        """A client UUID whose first 48 bits are the row's id and the rest seeded random bits ("COMB" UUIDs).
        Fully random ones land all over their unique index: past a few million rows every insert dirties a page
        of its own, which made that index alone most of a 1M-member demo's time. These append in id order."""
        return uuid4_text(row_id << 80 | self.uuid_rng.getrandbits(80))

    # ---- a batch -----------------------------------------------------------------------------------------------
    def build(self, people: list[Person]) -> Rows:
        """Rows for these members (one batch), given ids from where the previous batch stopped."""
        self.rows = Rows()
        first_id = self.ids.next["members"]
        member_ids = {p.ordinal: first_id + i for i, p in enumerate(people)}
        referrals: dict[int, list[Referral]] = {}
        for person in people:
            if person.referrer_ordinal is not None and person.visits and self.referral_bonus > 0:
                first = person.visits[0]
                member_id = member_ids[person.ordinal]
                referrals.setdefault(person.referrer_ordinal, []).append(
                    Referral(first.at, member_id, member_no_for(member_id), first.branch_id, first.staff_id)
                )
        for person in people:
            member_id = self.ids.take("members")
            referrer = member_ids.get(person.referrer_ordinal) if person.referrer_ordinal is not None else None
            self._member(person, member_id, referrer, referrals.get(person.ordinal, ()))
        return self.rows

    # ---- one member --------------------------------------------------------------------------------------------
    def _member(self, person: Person, member_id: int, referrer_id: int | None, referrals: Iterable[Referral]) -> None:
        shop = self.shop
        account = _Member(member_id, person.home_branch_id, shop.tiers[0])
        events: list[tuple[int, int, int, Any]] = []
        for index, visit in enumerate(person.visits):
            events.append((visit.at, _PURCHASE, index, visit))
            if visit.return_at:
                events.append((visit.return_at, _RETURN, index, visit))
        for index, referral in enumerate(referrals):
            events.append((referral.at, _REFERRAL, index, referral))
        events.sort(key=lambda e: (e[0], e[1], e[2]))
        sold: dict[int, _Sold] = {}
        spend = 0
        for at, kind, index, payload in events:
            self._expire_until(account, at)
            if kind == _PURCHASE:
                sold[index] = self._purchase(account, payload, person.thrifty)
                spend += payload.total_fen
                self._maybe_gift(account, payload)
            elif kind == _RETURN:
                spend -= self._return(account, sold[index])
            else:
                self._referral(account, payload)
        self._expire_until(account, self.now)
        self._evaluate_tier(account, self.now, person.home_branch_id, None)

        totals = self.totals
        totals.members += 1
        totals.marketing += person.marketing
        totals.referred += referrer_id is not None
        totals.tiers[account.tier.name] = totals.tiers.get(account.tier.name, 0) + 1
        self._member_row(person, member_id, referrer_id, account, spend)
        lots = self.rows.lots
        for lot, ledger_id, points, earned_value, expires_value in account.lots:
            lots.append((lot.id, member_id, ledger_id, earned_value, expires_value, points, lot.remaining))
        for tag in person.tags:
            self.rows.member_tags.append((member_id, shop.tag_ids[tag]))

    def _member_row(
        self, person: Person, member_id: int, referrer_id: int | None, account: _Member, spend: int
    ) -> None:
        stamp = self.stamp
        initials, full = self.pinyin(person.name)
        visits = person.visits
        joined = stamp(person.joined_at)
        id_enc = id_hash = None
        if person.id_number:
            id_enc, id_hash = self.cipher.encrypt(person.id_number), self.cipher.lookup_hash(person.id_number)
        staff = self.shop.counter_staff[person.home_branch_id][0]
        card = make_card_no(self.card_prefix, member_id)
        self.rows.members.append(
            (
                member_id,
                self._uuid(member_id),
                member_no_for(member_id),
                None if card in self.taken_cards else card,
                person.phone,
                person.phone[-4:],
                person.name,
                initials,
                full,
                person.gender.value,
                None if person.birthday is None else self.day_value(person.birthday),
                None if person.birthday is None else f"{person.birthday:%m-%d}",
                id_enc,
                id_hash,
                account.tier.id,
                None if account.review_at is None else stamp(account.review_at),
                person.home_branch_id,
                referrer_id,
                referrer_id is not None and bool(visits) and self.referral_bonus > 0,
                joined,
                person.marketing,
                joined if person.marketing else None,
                MemberStatus.ACTIVE.value,
                person.notes,
                account.account.balance,
                spend,
                len(visits),
                stamp(visits[0].at) if visits else None,
                stamp(visits[-1].at) if visits else None,
                joined,
                staff,
                self.now_value,
            )
        )

    # ---- what happens at the counter ---------------------------------------------------------------------------
    def _purchase(self, account: _Member, visit: Visit, thrifty: bool) -> _Sold:
        """LoyaltyService.record_purchase: priced by app.loyalty.pricing, points used, then points earned."""
        shop, rows, ids = self.shop, self.rows, self.ids
        total = visit.total_fen
        balance = account.account.balance
        excluded = 0
        if visit.lines:
            excluded = sum(line.amount_fen for line in visit.lines if not line.product.earns_points)
        used = 0
        if (
            balance * 100 >= MIN_POINTS_TO_USE_FEN * shop.redeem.points_per_yuan
            and visit.u_points < POINTS_HABIT[thrifty]
        ):
            most = shop.redeem.max_points(total, balance)
            used = most - most % shop.redeem.points_per_yuan
        price = price_purchase(
            total_fen=total,
            excluded_fen=excluded,
            points_to_use=used,
            balance=balance,
            tier_pct=account.tier.earn_multiplier_pct,
            day_pct=self.day_pct[visit.day],
            fen_per_point=shop.earn.fen_per_point,
            redeem=shop.redeem,
        )
        value, paid, earned = price.points_value_fen, price.paid_fen, price.points_to_earn
        sale_id = ids.take("sales")
        key = f"demo:{self.seed}:sale:{sale_id:010d}"
        at = self._stamp(visit.at)
        rows.sales.append(
            (
                sale_id,
                self._uuid(sale_id),
                key,
                SaleKind.SALE.value,
                account.member_id,
                visit.branch_id,
                visit.staff_id,
                f"D{sale_id:010d}",
                at,
                total,
                used,
                value,
                None,
                0,
                paid,
                earned,
                None,
                None,
                at,
            )
        )
        if visit.lines:
            for line in visit.lines:
                product = line.product
                rows.sale_lines.append(
                    (
                        ids.take("sale_lines"),
                        sale_id,
                        product.id,
                        product.category_id,
                        product.name,
                        line.quantity,
                        line.amount_fen,
                    )
                )
        redeemed_from: list[tuple[Lot[int], int]] = []
        if used:
            _, redeemed_from = self._post(
                account,
                -used,
                LedgerSource.REDEMPTION,
                f"sale {sale_id}: points paid {value} fen",
                f"{key}:redeem",
                visit.at,
                visit.branch_id,
                visit.staff_id,
                sale_id=sale_id,
            )
        earn_lot = None
        if earned:
            lots_before = len(account.lots)
            self._post(
                account,
                earned,
                LedgerSource.SALE,
                f"sale {sale_id}",
                f"{key}:earn",
                visit.at,
                visit.branch_id,
                visit.staff_id,
                sale_id=sale_id,
                expires=self.expiry[visit.day],
            )
            earn_lot = account.lots[-1][0] if len(account.lots) > lots_before else None
        if visit.u_complaint < (COMPLAINT_RATE if visit.at < self.recent else RECENT_COMPLAINT_RATE):
            self.complaint_candidates.append((account.member_id, sale_id, visit.branch_id, visit.at))
        totals = self.totals
        totals.sales += 1
        totals.spend_fen += total
        totals.points_used += used
        totals.points_earned += earned
        self._count_in_window(account, visit.at, total, earned)
        self._evaluate_tier(account, visit.at, visit.branch_id, visit.staff_id)
        return _Sold(sale_id, visit, used, value, paid, earned, earn_lot, redeemed_from)

    def _return(self, account: _Member, sold: _Sold) -> int:
        """LoyaltyService.return_sale: take back what the sale earned (its own lot first, the balance may go
        below zero) and pay back the points it used (keeping the latest expiry of the lots they came from).
        Returns the spend taken off the member's lifetime total."""
        visit = sold.visit
        at = visit.return_at
        sale_id = self.ids.take("sales")
        key = f"demo:{self.seed}:return:{sale_id:010d}"
        value = self._stamp(at)
        self.rows.sales.append(
            (
                sale_id,
                self._uuid(sale_id),
                key,
                SaleKind.RETURN.value,
                account.member_id,
                visit.branch_id,
                visit.staff_id,
                None,
                value,
                -visit.total_fen,
                -sold.points_used,
                -sold.points_value_fen,
                None,
                0,
                -sold.paid_fen,
                -sold.points_earned,
                sold.sale_id,
                None,
                value,
            )
        )
        if sold.points_earned:
            self._post(
                account,
                -sold.points_earned,
                LedgerSource.REVERSAL,
                f"return of sale {sold.sale_id}: earned points",
                f"{key}:earn",
                at,
                visit.branch_id,
                visit.staff_id,
                sale_id=sale_id,
                from_lots=[sold.earn_lot] if sold.earn_lot else (),
                allow_negative=True,
            )
        if sold.points_used:
            self._post(
                account,
                sold.points_used,
                LedgerSource.REVERSAL,
                f"return of sale {sold.sale_id}: points paid back",
                f"{key}:refund",
                at,
                visit.branch_id,
                visit.staff_id,
                sale_id=sale_id,
                expires=self._refund_expiry(sold, visit.return_day),
            )
        self.totals.returns += 1
        self._count_in_window(account, at, -visit.total_fen, -sold.points_earned)
        self._evaluate_tier(account, at, visit.branch_id, visit.staff_id)
        return visit.total_fen

    def _refund_expiry(self, sold: _Sold, return_day: int) -> int | None:
        return refund_expiry([lot.expires_at for lot, _points in sold.redeemed_from], self.expiry[return_day])

    def _maybe_gift(self, account: _Member, visit: Visit) -> None:
        """LoyaltyService.redeem_gift, now and then, for a gift the member can afford and that is in stock."""
        if visit.u_gift >= GIFT_RATE:
            return
        affordable = [
            g for g in self.shop.gifts if g.points_price <= account.account.balance and self.gift_stock[g.id] > 0
        ]
        if not affordable:
            return
        gift: GiftRow = affordable[int(visit.u_gift_pick * len(affordable))]
        redemption_id = self.ids.take("gift_redemptions")
        key = f"demo:{self.seed}:gift:{redemption_id:010d}"
        at = visit.at + 120
        ledger_id, _ = self._post(
            account,
            -gift.points_price,
            LedgerSource.GIFT,
            f"gift {gift.name} x1",
            f"{key}:points",
            at,
            visit.branch_id,
            visit.staff_id,
        )
        self.rows.gift_redemptions.append(
            (
                redemption_id,
                self._uuid(redemption_id),
                key,
                gift.id,
                account.member_id,
                ledger_id,
                1,
                gift.points_price,
                visit.branch_id,
                visit.staff_id,
                self._stamp(at),
            )
        )
        self.gift_stock[gift.id] -= 1
        self.rows.gifts_taken[gift.id] = self.rows.gifts_taken.get(gift.id, 0) + 1
        self.totals.gift_redemptions += 1

    def _referral(self, account: _Member, referral: Referral) -> None:
        """LoyaltyService._reward_referrer, on the referred member's first purchase."""
        self._post(
            account,
            self.referral_bonus,
            LedgerSource.REFERRAL,
            f"referral of member {referral.member_no}",
            f"referral:{referral.member_id}",
            referral.at,
            referral.branch_id,
            referral.staff_id,
            expires=self.expiry[self._day_of(referral.at)],
        )

    def _expire_until(self, account: _Member, until: int) -> None:
        """LoyaltyService.expire_points, run nightly: all lots past their date go in one ledger row."""
        book = account.account
        while book.next_expiry is not None and book.next_expiry + EXPIRY_JOB_DELAY <= until:
            run = book.next_expiry + EXPIRY_JOB_DELAY
            due = book.due(run)
            points = sum(lot.remaining for lot in due)
            ledger_id = self.ids.next["points_ledger"]
            self._post(
                account,
                -points,
                LedgerSource.EXPIRY,
                "points expired",
                f"demo:{self.seed}:expiry:{ledger_id:010d}",
                run,
                account.home,
                None,
                from_lots=due,
                only_lots=True,
            )
            self.totals.points_expired += points

    # ---- the ledger ------------------------------------------------------------------------------------------
    def _post(
        self,
        account: _Member,
        delta: int,
        source: LedgerSource,
        reason: str,
        key: str,
        at: int,
        branch_id: int,
        staff_id: int | None,
        *,
        sale_id: int | None = None,
        expires: int | None = None,
        from_lots: Sequence[Lot[int]] = (),
        only_lots: bool = False,
        allow_negative: bool = False,
    ) -> tuple[int, list[tuple[Lot[int], int]]]:
        """app.loyalty.ledger.post_points in memory: the book moves the points; here are the ledger row, the new
        lot and the lot uses it writes. Returns the ledger row's id and the (lot, points) taken."""
        ledger_id = self.ids.take("points_ledger")
        book = account.account
        movement = book.post(delta, first=from_lots, only_first=only_lots, allow_negative=allow_negative)
        self.rows.ledger.append(
            (
                ledger_id,
                self._uuid(ledger_id),
                key,
                account.member_id,
                branch_id,
                staff_id,
                None,
                source.value,
                delta,
                movement.balance_after,
                reason[:200],
                sale_id,
                self._stamp(at),
            )
        )
        if movement.new_lot_points:
            lot = Lot(self.ids.take("points_lots"), at, expires, movement.new_lot_points)
            value = self._stamp(at)
            expires_value = None if expires is None else self._expiry_value(expires)
            account.lots.append((lot, ledger_id, movement.new_lot_points, value, expires_value))
            book.add_lot(lot)
        lot_uses = self.rows.lot_uses
        for taken, take in movement.taken:
            lot_uses.append((self.ids.take("points_lot_uses"), ledger_id, taken.id, take))
        return ledger_id, movement.taken

    # ---- tiers -------------------------------------------------------------------------------------------------
    def _count_in_window(self, account: _Member, at: int, spend: int, points: int) -> None:
        account.window.append((at, spend, points))
        account.spend_12m += spend
        account.points_12m += points

    def _evaluate_tier(self, account: _Member, at: int, branch_id: int, staff_id: int | None) -> None:
        """The counter's move_tier: the 12-month window here, the decision the book's."""
        window, cutoff = account.window, at - self.year_seconds
        while window and window[0][0] <= cutoff:
            _, spend, points = window.popleft()
            account.spend_12m -= spend
            account.points_12m -= points
        metric = account.spend_12m if self.basis == "spend" else account.points_12m
        current = account.tier
        review_due = account.review_at is not None and account.review_at <= at
        if not review_due and metric < self.ladder.upgrade_from[current.id]:
            return  # the book's own shortcut (TierLadder.decide), without the call: most purchases end here
        decision = self.ladder.decide(current.id, metric, review_due)
        if decision is None:
            return
        if decision.reason is None:
            account.review_at = at + self.review_seconds
            return
        target = self.tier_by_id[decision.tier_id]
        self.rows.tier_changes.append(
            (
                self.ids.take("tier_changes"),
                account.member_id,
                current.id,
                target.id,
                decision.reason,
                staff_id,
                branch_id,
                self.stamp(at),
            )
        )
        account.tier = target
        account.review_at = at + self.review_seconds

    def _day_of(self, at: int) -> int:
        return max(0, bisect_right(self.calendar.midnight, at) - 1)


def _epoch(moment: Any) -> int | None:
    return None if moment is None else int(moment.timestamp())
