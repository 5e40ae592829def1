"""What `db check` verifies of the audit log: each branch's chain, and that every sale and ledger row was written
under an audit entry that still vouches for its content."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.i18n import QT_TRANSLATE_NOOP as S
from app.trust.audit import TABLES, chain_of
from app.trust.chain import GENESIS, TIED_COLUMNS, RowDigest, entry_hash
from db.models import AuditHead, AuditLog, Branch

SAMPLE = 5


@dataclass(frozen=True)
class Finding:
    """One kind of problem: an English message marked for translation, how many, and a few examples."""

    message: str
    count: int
    examples: list[str]


@dataclass(frozen=True)
class ChainHead:
    """A branch chain's last entry: write it down (or print it) to prove later that nothing before it changed."""

    branch_id: int
    branch_name: str
    seq: int
    row_hash: str

    def __str__(self) -> str:
        return f"{self.branch_id}:{self.seq}:{self.row_hash}"


class _Tally:
    def __init__(self) -> None:
        self.found: dict[str, list[str]] = {}

    def add(self, message: str, example: str) -> None:
        self.found.setdefault(message, []).append(example)

    def findings(self) -> list[Finding]:
        return [Finding(m, len(e), e[:SAMPLE]) for m, e in self.found.items()]


BROKEN = S("Integrity", "{count} audit entries are missing or out of order in their branch's chain (at: {examples})")
CHANGED = S("Integrity", "{count} audit entries were changed after they were written (entries: {examples})")
HEAD = S(
    "Integrity",
    "{count} branch audit chains end before their recorded head: entries at the end were removed ({examples})",
)
UNTIED = S(
    "Integrity",
    "{count} sales, points-ledger or coupon-ledger rows were not written under any audit entry (rows: {examples})",
)
ALTERED = S(
    "Integrity",
    "{count} audit entries no longer match the sales or ledger rows they wrote: rows were changed, added or "
    "removed (entries: {examples})",
)


def chain_heads(session: Session) -> list[ChainHead]:
    names: dict[int, str] = {i: n for i, n in session.execute(select(Branch.id, Branch.name))}
    return [
        ChainHead(branch, names.get(branch, "-"), seq, row_hash)
        for branch, seq, row_hash in session.execute(
            select(AuditHead.branch_id, AuditHead.seq, AuditHead.row_hash).order_by(AuditHead.branch_id)
        )
    ]


def _check_chains(session: Session, tally: _Tally) -> dict[int, dict[str, Any]]:
    """Walk every chain; returns the row digests each entry recorded, by entry id."""
    vouched: dict[int, dict[str, Any]] = {}
    heads = {h.branch_id: h for h in chain_heads(session)}
    last: dict[int, tuple[int, str]] = {}
    chain_key = func.coalesce(AuditLog.branch_id, 0)
    query = select(
        AuditLog.id,
        AuditLog.branch_id,
        AuditLog.seq,
        AuditLog.prev_hash,
        AuditLog.row_hash,
        AuditLog.staff_id,
        AuditLog.created_at,
        AuditLog.action,
        AuditLog.entity,
        AuditLog.entity_id,
        AuditLog.details,
    ).order_by(chain_key, AuditLog.seq)
    for row in session.execute(query.execution_options(yield_per=5000)):
        chain = chain_of(row.branch_id)
        seq, prev = last.get(chain, (0, GENESIS))
        if row.seq != seq + 1 or row.prev_hash != prev:
            tally.add(BROKEN, f"{chain}#{row.seq}")
        details = row.details if isinstance(row.details, dict) else {}
        computed = entry_hash(
            row.prev_hash,
            row.seq,
            row.branch_id,
            row.staff_id,
            row.created_at,
            row.action,
            row.entity,
            row.entity_id,
            details,
        )
        if computed != row.row_hash:
            tally.add(CHANGED, f"{chain}#{row.seq}")
        if isinstance(details.get("rows"), dict):
            vouched[row.id] = details["rows"]
        last[chain] = (row.seq, row.row_hash)
    for chain, head in heads.items():
        if last.get(chain, (0, GENESIS)) != (head.seq, head.row_hash):
            seq = last.get(chain, (0, GENESIS))[0]
            tally.add(HEAD, f"{chain}#{seq}<{head.seq}")
    return vouched


def _grouped(session: Session, table: str) -> Iterator[tuple[int | None, RowDigest, int]]:
    """(audit_id, digest of its rows, first row id) for each group of rows, in audit_id order."""
    t = TABLES[table]
    columns = [t.c[c] for c in TIED_COLUMNS[table]]
    query = select(t.c.audit_id, *columns).order_by(t.c.audit_id, t.c.id).execution_options(yield_per=10000)
    current: int | None = -1
    digest = RowDigest(table)
    first = 0
    for row in session.execute(query):
        if row[0] != current:
            if current != -1:
                yield current, digest, first
            current, digest, first = row[0], RowDigest(table), row[1]
        if current is None:
            yield None, RowDigest(table).add_all([row[1:]]), row[1]
            current = -1
            continue
        digest.add(row[1:])
    if current != -1:
        yield current, digest, first


def _check_ties(session: Session, vouched: dict[int, dict[str, Any]], tally: _Tally) -> None:
    for table in TABLES:
        seen: set[int] = set()
        for audit_id, digest, first in _grouped(session, table):
            if audit_id is None:
                tally.add(UNTIED, f"{table}#{first}")
                continue
            seen.add(audit_id)
            if vouched.get(audit_id, {}).get(table) != digest.summary():
                tally.add(ALTERED, f"#{audit_id}")
        for audit_id, rows in vouched.items():
            if table in rows and audit_id not in seen:
                tally.add(ALTERED, f"#{audit_id}")


def check_audit(session: Session) -> list[Finding]:
    tally = _Tally()
    vouched = _check_chains(session, tally)
    _check_ties(session, vouched, tally)
    return tally.findings()
