"""The counter's lookup on SQLite runs its statements as SQLite gets them on the thread's plain connection (issue 14):
every kind of lookup must find the same members, in the same order, with the same figures, as the statements run
through SQLAlchemy do (the reference below, on a read session), for a cashier (masked phone) and an owner."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.bootstrap import ensure_store
from app.clock import FixedClock
from app.context import Services, Store
from app.demo import DemoOptions, generate_demo
from app.members.lookup import find_first, first_rows, plan_lookup
from app.members.queries import listed_members
from app.members.service import LOOKUP_LIMIT, LookupResult, MemberForm, MemberHit
from app.members.validation import mask_phone
from app.paths import DataPaths
from app.security.crypto import FieldCipher
from app.security.operator import Operator
from db.engine import Database, counter_connection
from db.enums import MemberStatus
from db.models import Member
from db.plain import PlainReads

NOW = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def demo(database: Database, tmp_path: Path) -> Store:
    ensure_store(database)
    paths = DataPaths(tmp_path / "data").ensure()
    store = Store(paths, database, FieldCipher.from_key_file(paths.key_file), FixedClock(NOW))
    generate_demo(store, DemoOptions(members=120, days=200, seed=5), lambda *_: True)
    return store


def reference(session: Session, operator: Operator, query: str, limit: int = LOOKUP_LIMIT) -> LookupResult:
    """The lookup through SQLAlchemy: the same plan, each part's statement executed on the session."""
    base = listed_members()

    found, exact = find_first(session, lambda part: first_rows(base, part), plan_lookup(query), limit)
    hits = [
        MemberHit(
            id=r[0],
            member_no=r[1],
            name=r[2] or "",
            masked_phone=mask_phone(r[3]),
            phone=r[3] if operator.sees_full_phone else None,
            card_no=r[4],
            tier_name=r[5],
            tier_name_en=r[6],
            points=r[7],
            last_visit_at=r[8],
        )
        for r in found
    ]
    return LookupResult(hits, exact)


def queries(member: Any) -> list[str]:
    phone, card, name, initials, full = member
    return [
        phone, phone[-4:], phone[:3], phone[:7], card, card[:4], card.lower(), name[:1], name[:2], name,
        initials, initials[:1], full, full[:3], full.upper(), "MD0000", "x9", "５６７８",
    ]  # fmt: skip


def test_every_kind_finds_what_sqlalchemy_finds(demo: Store) -> None:
    members = demo.db.read(
        lambda s: list(
            s.execute(
                select(Member.phone, Member.card_no, Member.name, Member.pinyin_initials, Member.pinyin_full)
                .where(Member.status != MemberStatus.ANONYMISED, Member.card_no.is_not(None))
                .order_by(Member.id)
                .limit(40)
            ).all()
        )
    )
    assert len(members) == 40
    seen_visits = seen_exact = seen_many = 0
    for role in ("cashier1", "owner"):
        operator = demo.operator(role)
        service = demo.services(operator).members
        for member in members:
            for query in queries(member):
                with counter_connection():
                    got = service.lookup(query)
                assert got == demo.db.read(lambda s, q=query, o=operator: reference(s, o, q)), (role, query)
                seen_visits += sum(h.last_visit_at is not None for h in got.hits)
                seen_exact += got.exact
                seen_many += len(got.hits) > 1
                for hit in got.hits:
                    assert hit.last_visit_at is None or hit.last_visit_at.tzinfo == dt.UTC
    assert seen_visits and seen_exact and seen_many, "the demo must give visits, exact hits and several hits"


def test_a_search_over_two_parts_stops_at_the_limit(demo: Store) -> None:
    """A search that runs over more than one part (pinyin initials, then full pinyin; phone, then card number): each
    limit takes the same rows, in the same order, as SQLAlchemy's statements do, wherever the limit cuts."""
    cashier = demo.operator("cashier1")
    service = demo.services(cashier).members
    for query in ("zh", "z", "w", "13", "88"):
        for limit in (1, 2, 5, LOOKUP_LIMIT):
            got = service.lookup(query, limit)
            assert got == demo.db.read(lambda s, q=query, n=limit: reference(s, cashier, q, n)), (query, limit)
            assert len(got.hits) <= limit
    assert len(service.lookup("z", 5).hits) == 5


def test_the_plain_connection_is_the_threads_own_reads_each_commit_and_closes(store: Store, svc: Services) -> None:
    db = store.db
    if not db.is_sqlite:
        assert db.plain_reads() is None
        return
    mine = db.plain_reads()
    assert mine is not None and db.plain_reads() is mine
    other: list[PlainReads | None] = []
    thread = threading.Thread(target=lambda: other.append(db.plain_reads()))
    thread.start()
    thread.join()
    theirs = other[0]
    assert theirs is not None and theirs is not mine
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        mine.rows("DELETE FROM members")
    assert svc.members.lookup("张").hits == []
    member_id = svc.members.register(MemberForm(phone="13812345678", name="张三", membership_consent=True))
    assert [h.id for h in svc.members.lookup("张").hits] == [member_id], "each lookup reads the last commit"
    db.dispose()
    for closed in (mine, theirs):
        with pytest.raises(sqlite3.ProgrammingError):
            closed.rows("SELECT 1")
    assert db.plain_reads() not in (None, mine), "a new one after dispose"
    assert [h.id for h in svc.members.lookup("张").hits] == [member_id]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")
def test_a_forked_process_never_reads_on_its_parents_plain_connection(store: Store, svc: Services) -> None:
    if not store.db.is_sqlite:
        pytest.skip("SQLite's plain connection (a server's pooled connection must not cross a fork either)")
    member_id = svc.members.register(MemberForm(phone="13812345678", name="张三", membership_consent=True))
    assert [h.id for h in svc.members.lookup("5678").hits] == [member_id]
    child = os.fork()
    if child == 0:  # the child: no plain connection of the parent's, the lookup on the pooled one
        ok = store.db.plain_reads() is None and [h.id for h in svc.members.lookup("5678").hits] == [member_id]
        os._exit(0 if ok else 1)
    assert os.waitpid(child, 0)[1] == 0
    assert store.db.plain_reads() is not None
