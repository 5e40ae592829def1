"""The points book (app.loyalty.book) on the database: lock a member, post points, write the member back.

`post_points` is the one function through which every change of a member's points goes. It must be called inside a
write transaction with the member row locked (`lock_member`): it loads what the book needs (the open lots, for a
debit), asks the book how the points move, and writes the answer — the ledger row, a new lot or the points taken
from lots — in the caller's transaction, so a crash leaves either everything or nothing. Invariants (`db check`):
  balance == sum(ledger.delta);  each row's balance_after == running sum;  max(balance, 0) == sum(lot.remaining).

Statements are built once and run through Core: SQLAlchemy spends more on building and keying a statement (~0.13 ms
for an INSERT with .values()) than SQLite on running it, and the ORM's load and flush of a member row cost a purchase
a third of its time (bench/README.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Insert, bindparam, select
from sqlalchemy.orm import Session

from app.errors import NotFoundError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.loyalty.book import Account, Lot
from app.security.operator import Operator
from app.trust.audit import tie_row
from db.base import new_uuid, utcnow
from db.bulk import DriverValues
from db.enums import LedgerSource, MemberStatus
from db.later import later, read
from db.models import Member, PointsLedger, PointsLot


@dataclass
class LockedMember:
    """A member row locked for the transaction, as plain values; `save_member` writes back what changed."""

    id: int
    member_no: str
    points_balance: int
    lifetime_spend_fen: int
    visit_count: int
    first_visit_at: dt.datetime | None
    last_visit_at: dt.datetime | None
    referrer_id: int | None
    referral_rewarded: bool
    tier_id: int
    tier_review_at: dt.datetime | None


@dataclass(slots=True)
class Posting:
    """One change of a member's points, as its caller asks for it (not frozen: a frozen dataclass's __init__ sets
    each field through object.__setattr__, and a purchase makes two)."""

    member: LockedMember
    delta: int
    source: LedgerSource
    reason: str
    idempotency_key: str
    at: dt.datetime
    expires_at: dt.datetime | None = None
    sale_id: int | None = None
    approved_by_id: int | None = None
    allow_negative: bool = False
    """Only a reversal may take the balance below zero (the member already spent what a returned sale earned)."""
    from_lots: Sequence[int] = ()
    """Lots to take from first (a reversal takes back its own sale's lot before any other)."""
    only_lots: bool = False
    """Take from `from_lots` alone (expiry)."""
    key_checked: bool = False
    """The caller has just found no operation under this key while holding the member lock (skips one query)."""


_MEMBER_FIELDS = (
    "id",
    "member_no",
    "points_balance",
    "lifetime_spend_fen",
    "visit_count",
    "first_visit_at",
    "last_visit_at",
    "referrer_id",
    "referral_rewarded",
    "tier_id",
    "tier_review_at",
)
_WRITTEN_BACK = _MEMBER_FIELDS[2:]
# The lock names the members table alone: a join in a locking SELECT is re-evaluated by PostgreSQL's Read
# Committed re-check against the joined rows it read before waiting, so a tier changed by the transaction it waited
# for made the member vanish ("Member not found.") or come back without its tier. Tiers are read after the lock
# (app.loyalty.tiers.ladder).
_LOCK_MEMBER = (
    select(*(getattr(Member, name) for name in _MEMBER_FIELDS), Member.status)
    .where(Member.id == bindparam("member_id"))
    .with_for_update()
)
_FIND_POSTING = select(PointsLedger.id).where(PointsLedger.idempotency_key == bindparam("key"))
_LEDGER_COLUMNS = (
    "client_uuid",
    "idempotency_key",
    "member_id",
    "branch_id",
    "staff_id",
    "approved_by_id",
    "source",
    "delta",
    "balance_after",
    "reason",
    "sale_id",
    "created_at",
)
# Sent with the writes queued before it (`db.later`: a purchase's month rows), its id returned.
_INSERT_LEDGER = (
    f"INSERT INTO points_ledger ({', '.join(_LEDGER_COLUMNS)})"
    f" VALUES ({', '.join('{p}' for _ in _LEDGER_COLUMNS)}) RETURNING id"
)
_OPEN_LOTS = select(PointsLot.id, PointsLot.earned_at, PointsLot.expires_at, PointsLot.remaining).where(
    PointsLot.member_id == bindparam("member_id"), PointsLot.remaining > 0
)
# Written on every purchase straight through the driver (`{p}`: its parameter marker), values converted as the
# columns' types would (db.bulk.DriverValues): SQLAlchemy's execution costs ~50-100 Python calls a statement, more
# than SQLite's own work, and these need nothing of it — no defaults, no returned ids, no result rows.
_SAVE_MEMBER = (
    "UPDATE members SET " + ", ".join(f"{name} = {{p}}" for name in (*_WRITTEN_BACK, "updated_at")) + " WHERE id = {p}"
)
_INSERT_LOT = (
    "INSERT INTO points_lots (member_id, ledger_id, earned_at, expires_at, points, remaining)"
    " VALUES ({p}, {p}, {p}, {p}, {p}, {p})"
)
_TAKE_FROM_LOT = "UPDATE points_lots SET remaining = remaining - {p} WHERE id = {p}"
_INSERT_LOT_USE = "INSERT INTO points_lot_uses (ledger_id, lot_id, points) VALUES ({p}, {p}, {p})"


def driver_values(conn: Connection) -> DriverValues:
    """The converter of values for the driver of the connection."""
    return DriverValues(sqlite=conn.dialect.name == "sqlite")


def lock_member(session: Session, member_id: int) -> LockedMember:
    """Lock the member's row for this transaction (PostgreSQL `FOR UPDATE`; SQLite's writer lock is already held)."""
    row = session.connection().execute(_LOCK_MEMBER, {"member_id": member_id}).first()
    if row is None or row.status == MemberStatus.ANONYMISED:
        raise NotFoundError(S("Errors", "Member not found."))
    return LockedMember(*row[:-1])


def save_member(session: Session, member: LockedMember) -> None:
    """Write back what the transaction changed on the member (and stamp updated_at): a write nobody waits on
    (`db.later`), sent with the transaction's next statement."""
    conn = session.connection()
    value = driver_values(conn)
    later(
        conn,
        _SAVE_MEMBER,
        (
            member.points_balance,
            member.lifetime_spend_fen,
            member.visit_count,
            value(member.first_visit_at),
            value(member.last_visit_at),
            member.referrer_id,
            member.referral_rewarded,
            member.tier_id,
            value(member.tier_review_at),
            value(utcnow()),
            member.id,
        ),
    )


def find_posting(session: Session, idempotency_key: str) -> int | None:
    """The id of the ledger row posted under this key, if any."""
    return session.connection().scalar(_FIND_POSTING, {"key": idempotency_key})


def post_points(session: Session, operator: Operator, posting: Posting) -> int:
    """Returns the ledger row's id (the existing row's, for a key already posted)."""
    if not posting.key_checked:
        existing = find_posting(session, posting.idempotency_key)
        if existing is not None:
            return existing
    member = posting.member
    conn = session.connection()
    if posting.delta < 0:
        lots = [Lot(*row) for row in conn.execute(_OPEN_LOTS, {"member_id": member.id})]
        wanted = posting.from_lots
        movement = Account(member.points_balance, lots).post(
            posting.delta,
            first=[lot for lot in lots if lot.id in wanted] if wanted else (),
            only_first=posting.only_lots,
            allow_negative=posting.allow_negative,
        )
    else:
        movement = Account[dt.datetime](member.points_balance).post(posting.delta)
    value = driver_values(conn)
    row = {
        "client_uuid": new_uuid(),
        "idempotency_key": posting.idempotency_key,
        "member_id": member.id,
        "branch_id": operator.branch_id,
        "staff_id": operator.staff_id,
        "approved_by_id": posting.approved_by_id,
        "source": posting.source,
        "delta": posting.delta,
        "balance_after": movement.balance_after,
        "reason": posting.reason[:200],
        "sale_id": posting.sale_id,
        "created_at": posting.at,
    }
    entry_id = int(read(conn, _INSERT_LEDGER, [value(row[name]) for name in _LEDGER_COLUMNS])[0][0])
    tie_row(session, operator, "points_ledger", entry_id, row)
    # The lot written or the points taken from lots: writes nobody waits on (`db.later`).
    if movement.new_lot_points:
        points = movement.new_lot_points
        later(conn, _INSERT_LOT, (member.id, entry_id, value(posting.at), value(posting.expires_at), points, points))
    if movement.taken:
        later(conn, _TAKE_FROM_LOT, [(take, lot.id) for lot, take in movement.taken], many=True)
        later(conn, _INSERT_LOT_USE, [(entry_id, lot.id, take) for lot, take in movement.taken], many=True)
    member.points_balance = movement.balance_after
    return entry_id


def insert_row(conn: Connection, statement: Insert, values: dict[str, Any]) -> int:
    """Run a built INSERT for one row; the new row's id (the driver's lastrowid on SQLite, RETURNING on
    PostgreSQL)."""
    key = conn.execute(statement, values).inserted_primary_key
    assert key is not None and key[0] is not None
    return int(key[0])
