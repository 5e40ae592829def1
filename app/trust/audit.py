"""The append-only, hash-chained audit log of staff changes.

`record_audit` is the one call every service makes. Each branch has its own chain: an entry's hash covers its
content and the previous entry's hash, and `audit_heads` holds each chain's last entry. Writing an entry locks the
branch's head row (`SELECT … FOR UPDATE` on PostgreSQL; SQLite write transactions are serialised already), so two
counters of one branch can never give two entries the same place in the chain.

Sales, points-ledger and coupon-ledger rows are tied to the entry written in their transaction: the code that
inserts one calls `tie_row` (or `tie_new_rows` for a bulk load), and the transaction's next `record_audit` stamps them
with its id and keeps a digest of their content in its details. Every insert into these tables must be tied so. A
transaction that ties rows but writes no entry gets one at commit (a listener on every session), so no sale or ledger
row is ever committed untied by our own code.
`db check` then reports a row with no entry, an entry whose rows changed, and a chain with a gap or a changed entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, Table, bindparam, event, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.security.operator import Operator
from app.trust.chain import GENESIS, TIED_COLUMNS, RowDigest, entry_hash, plain_details
from db.base import utcnow
from db.bulk import marker
from db.engine import Database
from db.later import read
from db.models import AuditHead, AuditLog, CouponLedger, PointsLedger, Sale

_PENDING = "memberdesk.audit.pending"
TABLES: dict[str, Table] = {
    "sales": Sale.__table__,  # type: ignore[dict-item]
    "points_ledger": PointsLedger.__table__,  # type: ignore[dict-item]
    "coupon_ledger": CouponLedger.__table__,  # type: ignore[dict-item]
}

_INSERT_ENTRY = insert(AuditLog)
_ENTRY_COLUMNS = [c.name for c in AuditLog.__table__.columns if c.name != "id"]
_LOCK_HEAD_SQL = {
    "sqlite": "SELECT seq, row_hash FROM audit_heads WHERE branch_id = {p}",  # SQLite: the writer lock is held
    "postgresql": "SELECT seq, row_hash FROM audit_heads WHERE branch_id = {p} FOR UPDATE",
}
_MOVE_HEAD = (
    update(AuditHead)
    .where(AuditHead.__table__.c.branch_id == bindparam("b_chain"))
    .values(seq=bindparam("b_seq"), row_hash=bindparam("b_hash"))
)


def _subsets(names: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Every subset of `names` (the tables a transaction may have tied rows in)."""
    if not names:
        return [()]
    rest = _subsets(names[1:])
    return rest + [(names[0], *chosen) for chosen in rest]


def _append_on_server(tables: frozenset[str]) -> Any:
    """PostgreSQL, where counters write at once and the branch's head row is the one row all of them lock: once the
    head is locked (`_LOCK_HEAD_SQL`) and the entry's hash made, one statement inserts the entry, moves the head and
    stamps the tied rows of `tables` (ids in arrays) with the entry's id, so the head is held for two statements and
    the commit (the entry's id drawn, the rows stamped, the head locked, the entry written: five before)."""
    entry = (
        insert(AuditLog).values({c: bindparam(f"e_{c}") for c in _ENTRY_COLUMNS}).returning(AuditLog.id).cte("entry")
    )
    statement = select(entry.c.id).add_cte(_MOVE_HEAD.cte("moved"))
    for name in sorted(tables):
        table = TABLES[name]
        stamp = (
            update(table)
            .where(table.c.id == func.any(bindparam(f"ids_{name}", type_=postgresql.ARRAY(Integer))))
            .values(audit_id=select(entry.c.id).scalar_subquery())
            .cte(f"stamp_{name}")
        )
        statement = statement.add_cte(stamp)
    return statement


_APPEND = {frozenset(chosen): _append_on_server(frozenset(chosen)) for chosen in _subsets(tuple(TABLES))}


@dataclass
class _Pending:
    """Rows this transaction wrote that its next audit entry vouches for: by id with their digests made from the
    values inserted (no read-back), or, for a bulk load, every untied row past a mark."""

    operator: Operator
    ids: dict[str, list[int]] = field(default_factory=dict)
    digests: dict[str, RowDigest] = field(default_factory=dict)
    since: dict[str, int] = field(default_factory=dict)


def chain_of(branch_id: int | None) -> int:
    """The chain an entry belongs to: its branch's (0 for entries made before branches were known)."""
    return branch_id or 0


def _pending(session: Session, operator: Operator) -> _Pending:
    pending: _Pending | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = _Pending(operator)
    return pending


def _defaults(table: Table) -> dict[str, Any]:
    """What an INSERT leaves out becomes the column's scalar default (else NULL)."""
    return {
        c.name: c.default.arg if c.default is not None and c.default.is_scalar else None  # type: ignore[attr-defined]
        for c in table.columns
    }


_DEFAULTS = {name: _defaults(table) for name, table in TABLES.items()}


def tie_row(session: Session, operator: Operator, table: str, row_id: int, values: dict[str, Any]) -> None:
    """A sale or ledger row this transaction inserted (`values` as given to the INSERT, in id order per table):
    the transaction's next audit entry vouches for it."""
    pending = _pending(session, operator)
    pending.ids.setdefault(table, []).append(row_id)
    defaults = _DEFAULTS[table]
    row = [row_id, *[values.get(c, defaults[c]) for c in TIED_COLUMNS[table][1:]]]
    if table not in pending.digests:
        pending.digests[table] = RowDigest(table)
    pending.digests[table].add(row)


def tie_object(session: Session, operator: Operator, table: str, row: Any) -> None:
    """`tie_row` for a row inserted through the ORM (flushed, so it has its id)."""
    tie_row(session, operator, table, row.id, {c: getattr(row, c) for c in TIED_COLUMNS[table]})


def row_marks(session: Session, tables: tuple[str, ...] = tuple(TABLES)) -> dict[str, int]:
    """The highest id of each tied table (or of `tables`) now: a bulk load that starts here ties what it adds after
    these."""
    conn = session.connection()
    return {name: conn.scalar(select(func.coalesce(func.max(TABLES[name].c.id), 0))) or 0 for name in tables}


def tie_new_rows(session: Session, operator: Operator, marks: dict[str, int]) -> None:
    """A bulk load (import, demo): its next audit entry vouches for every untied row added since `marks`."""
    _pending(session, operator).since.update(marks)


def _built(table: Table, name: str) -> dict[str, Any]:
    """The statements a tie needs, built once (building one costs more than SQLite running it)."""
    columns = [table.c[c] for c in TIED_COLUMNS[name]]
    since = (table.c.id > bindparam("since")) & table.c.audit_id.is_(None)
    stamp = update(table).values(audit_id=bindparam("b_audit"))
    return {
        "read_since": select(*columns).where(since).order_by(table.c.id),
        "stamp_since": stamp.where(since),
    }


_TIE = {name: _built(table, name) for name, table in TABLES.items()}


def _digests(session: Session, pending: _Pending) -> dict[str, list[Any]]:
    """[count, digest] of each table's pending rows, as the entry's details keep them."""
    summaries = {name: digest.summary() for name, digest in pending.digests.items()}
    for name, since in pending.since.items():
        digest = RowDigest(name).add_all(session.connection().execute(_TIE[name]["read_since"], {"since": since}))
        if digest.count:
            summaries[name] = digest.summary()
    return summaries


def _stamp(session: Session, pending: _Pending, audit_id: int) -> None:
    conn = session.connection()
    if pending.ids:
        # Every purchase stamps its sale and ledger rows: integers only, straight to the driver (SQLAlchemy's
        # execution cost more Python than the two UPDATEs themselves; bench/bench_book.py).
        mark = marker(conn)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        for name, ids in pending.ids.items():
            cursor.executemany(f"UPDATE {name} SET audit_id = {mark} WHERE id = {mark}", [(audit_id, i) for i in ids])
        cursor.close()
    for name, since in pending.since.items():
        conn.execute(_TIE[name]["stamp_since"], {"since": since, "b_audit": audit_id})


def _lock_head(session: Session, chain: int) -> tuple[int, str]:
    """The branch's chain head, locked; sent with the writes queued before it (`db.later`: the member row at the
    end of a purchase), one round trip."""
    conn = session.connection()
    found = read(conn, _LOCK_HEAD_SQL[conn.dialect.name], (chain,))
    head = found[0] if found else None
    if head is None:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        conn.execute(
            dialect.insert(AuditHead)
            .values(branch_id=chain, seq=0, row_hash=GENESIS)
            .on_conflict_do_nothing(index_elements=["branch_id"])
        )
        head = read(conn, _LOCK_HEAD_SQL[conn.dialect.name], (chain,))[0]
    return int(head[0]), str(head[1])


def record_audit(
    session: Session,
    operator: Operator,
    action: str,
    entity: str,
    entity_id: int | str | None,
    details: dict[str, Any] | None = None,
) -> int:
    """Append an entry to the operator's branch chain, in the caller's transaction; returns its id. Details should
    hold what changed (before/after) but no full phone or ID number (the trail outlives a member's deletion); the key
    "rows" is the tied rows' digests."""
    plain = plain_details(details)
    assert "rows" not in plain, "details['rows'] is kept for the digests of the tied rows"
    pending: _Pending | None = session.info.pop(_PENDING, None)
    if pending is not None:
        rows = _digests(session, pending)
        if rows:
            plain["rows"] = rows
    chain = chain_of(operator.branch_id)
    conn = session.connection()
    seq, prev_hash = _lock_head(session, chain)
    seq += 1
    created_at = utcnow()
    key = None if entity_id is None else str(entity_id)
    row_hash = entry_hash(prev_hash, seq, operator.branch_id, operator.staff_id, created_at, action, entity, key, plain)
    entry = {
        "created_at": created_at,
        "staff_id": operator.staff_id,
        "branch_id": operator.branch_id,
        "action": action,
        "entity": entity,
        "entity_id": key,
        "details": plain,
        "seq": seq,
        "prev_hash": prev_hash,
        "row_hash": row_hash,
    }
    head = {"b_chain": chain, "b_seq": seq, "b_hash": row_hash}
    if conn.dialect.name == "postgresql":
        ids = {name: chosen for name, chosen in (pending.ids if pending is not None else {}).items() if chosen}
        params = {**{f"e_{c}": v for c, v in entry.items()}, **head, **{f"ids_{n}": v for n, v in ids.items()}}
        audit_id = int(conn.execute(_APPEND[frozenset(ids)], params).scalar_one())
        if pending is not None and pending.since:  # a bulk load's rows, past its marks
            _stamp(session, _Pending(operator, since=pending.since), audit_id)
        return audit_id
    # SQLite: one writer at a time whatever the order.
    audit_id = int(conn.execute(_INSERT_ENTRY, entry).inserted_primary_key[0])  # type: ignore[index]
    conn.execute(_MOVE_HEAD, head)
    if pending is not None:
        _stamp(session, pending, audit_id)
    return audit_id


def record_export(db: Database, operator: Operator, entity: str, path: Path, rows: int) -> None:
    """Store data written to a file (members, coupons, complaints, segments): who wrote how many rows to which file
    (its name only: the folder may name a person)."""
    db.write(lambda s: record_audit(s, operator, "export", entity, None, {"file": path.name, "count": rows}))


@event.listens_for(Session, "before_commit")
def _audit_untold_rows(session: Session) -> None:
    """Rows tied but not yet audited when the transaction commits get an entry of their own."""
    pending: _Pending | None = session.info.get(_PENDING)
    if pending is not None and (pending.ids or pending.since):
        record_audit(session, pending.operator, "write", "points", None)
    session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_rollback")
def _forget_ties(session: Session) -> None:
    session.info.pop(_PENDING, None)
