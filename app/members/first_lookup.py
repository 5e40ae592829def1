"""The counter's lookup on a plain connection: on SQLite (`db.plain.PlainReads`) the one the store starts on, before
SQLAlchemy is loaded (docs/ARCHITECTURE.md §7), then each thread's own (`Database.plain_reads`); on a chain's server
the driver's connection (`Database.driver_read`). The same plan (`app.members.plan`), the lookup's own statements as
the database gets them (SQLite's in `app/members/first_sql.py`, written from them and checked against them by the
tests; a server's compiled from them, `app.members.service.lookup_statements`), the same hits (`app.members.hits`)."""

from __future__ import annotations

from typing import Any

from app.members.first_sql import STAGES
from app.members.hits import LOOKUP_LIMIT, LookupResult, member_hit
from app.members.plan import Stages, first_matches, plan_stages, text_params
from db.plain import Reads


def first_lookup(
    reads: Reads, query: str, sees_full_phone: bool, limit: int = LOOKUP_LIMIT, stages: Stages = STAGES
) -> LookupResult:
    steps = [(stages[name][0], stages[name][1], text_params(text)) for name, text in plan_stages(query)]

    def run(part: tuple[str, dict[str, Any]], params: dict[str, Any]) -> list[tuple[Any, ...]]:
        sql, fixed = part
        return reads.rows(sql, {**fixed, **params})

    rows, exact = first_matches(steps, run, limit)
    return LookupResult([member_hit(row, sees_full_phone) for row in rows], exact)
