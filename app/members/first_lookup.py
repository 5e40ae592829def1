"""The counter's lookup on a plain SQLite connection (`db.plain.PlainReads`): the one the store starts on, before
SQLAlchemy is loaded (docs/ARCHITECTURE.md §7), then each thread's own (`Database.plain_reads`). It runs what
`MemberService.lookup` runs through SQLAlchemy on a server: the same plan (`app.members.plan`), the same statements
as SQLite gets them (`app/members/first_sql.py`, written from the lookup's own statements and checked against them
by the tests), the same hits (`app.members.hits`)."""

from __future__ import annotations

from typing import Any

from app.members.first_sql import STAGES
from app.members.hits import LOOKUP_LIMIT, LookupResult, member_hit
from app.members.plan import first_matches, plan_stages, text_params
from db.plain import PlainReads


def first_lookup(reads: PlainReads, query: str, sees_full_phone: bool, limit: int = LOOKUP_LIMIT) -> LookupResult:
    steps = [(STAGES[name][0], STAGES[name][1], text_params(text)) for name, text in plan_stages(query)]

    def run(part: tuple[str, dict[str, Any]], params: dict[str, Any]) -> list[tuple[Any, ...]]:
        sql, fixed = part
        return reads.rows(sql, {**fixed, **params})

    rows, exact = first_matches(steps, run, limit)
    return LookupResult([member_hit(row, sees_full_phone) for row in rows], exact)
