"""`db check`: the database's own integrity and the points invariants the ledger promises (docs/ARCHITECTURE.md §4)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.charts.checks import spend_month_problems
from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate
from app.insights.aggregates import month_total_differences
from app.settings import read_settings
from app.trust.verify import ChainHead, chain_heads, check_audit
from db import day_totals, points_totals
from db.bulk import pending_indexes, restore_indexes
from db.engine import Database

SAMPLE = 5


@dataclass(frozen=True)
class Problem:
    message: str
    count: int
    examples: list[str]

    def __str__(self) -> str:
        return translate("Integrity", self.message).format(count=self.count, examples=", ".join(self.examples))


_CHECKS: list[tuple[str, str]] = [
    (
        S(
            "Integrity",
            "{count} members' points balance differs from the sum of their ledger (members: {examples})",
        ),
        """SELECT m.member_no FROM members m
           LEFT JOIN (SELECT member_id, SUM(delta) AS total FROM points_ledger GROUP BY member_id) l
             ON l.member_id = m.id
           WHERE m.points_balance <> COALESCE(l.total, 0)""",
    ),
    (
        S("Integrity", "{count} ledger rows whose balance_after is not the running sum (rows: {examples})"),
        """SELECT CAST(id AS VARCHAR(20)) FROM (
             SELECT id, balance_after,
                    SUM(delta) OVER (PARTITION BY member_id ORDER BY id ROWS UNBOUNDED PRECEDING) AS running
             FROM points_ledger) t
           WHERE balance_after <> running""",
    ),
    (
        S(
            "Integrity",
            "{count} members whose open points lots do not add up to their balance (members: {examples})",
        ),
        """SELECT m.member_no FROM members m
           LEFT JOIN (SELECT member_id, SUM(remaining) AS open FROM points_lots GROUP BY member_id) p
             ON p.member_id = m.id
           WHERE COALESCE(p.open, 0) <> CASE WHEN m.points_balance > 0 THEN m.points_balance ELSE 0 END""",
    ),
    (
        S("Integrity", "{count} points lots with a remainder outside 0..points (lots: {examples})"),
        "SELECT CAST(id AS VARCHAR(20)) FROM points_lots WHERE remaining < 0 OR remaining > points",
    ),
    (
        S("Integrity", "{count} sales whose earned points differ from their ledger rows (sales: {examples})"),
        """SELECT CAST(s.id AS VARCHAR(20)) FROM sales s
           LEFT JOIN (SELECT sale_id, SUM(delta) AS d FROM points_ledger WHERE source = 'sale' GROUP BY sale_id) l
             ON l.sale_id = s.id
           WHERE s.kind = 'sale' AND s.points_earned <> COALESCE(l.d, 0)""",
    ),
    (
        S("Integrity", "{count} active phone numbers held by more than one member (phones: {examples})"),
        """SELECT phone FROM members WHERE status = 'active' AND phone IS NOT NULL
           GROUP BY phone HAVING COUNT(*) > 1""",
    ),
]


def _care_problems(session: Session) -> list[Problem]:
    """Complaints and surveys (issue 11): a complaint's status is its last event's; a form is answered at most
    once; survey rewards and goodwill points are what the ledger holds (keys as app/care/points.py makes them)."""
    checks = [
        (
            S("Integrity", "{count} complaints whose status is not their last event's (complaints: {examples})"),
            """SELECT CAST(c.id AS VARCHAR(20)) FROM complaints c
               LEFT JOIN complaint_events e
                 ON e.id = (SELECT MAX(id) FROM complaint_events WHERE complaint_id = c.id)
               WHERE e.id IS NULL OR e.to_status <> c.status""",
        ),
        (
            S("Integrity", "{count} survey forms answered more than once (forms: {examples})"),
            """SELECT f.form_no FROM survey_responses r JOIN survey_forms f ON f.id = r.form_id
               GROUP BY f.form_no HAVING COUNT(*) > 1""",
        ),
        (
            S("Integrity", "{count} survey rewards that differ from the points ledger (forms: {examples})"),
            """SELECT f.form_no FROM survey_responses r JOIN survey_forms f ON f.id = r.form_id
               LEFT JOIN points_ledger l ON l.idempotency_key = 'survey-reward:' || f.form_no
               WHERE r.reward_points <> COALESCE(l.delta, 0)
               UNION
               SELECT l.idempotency_key FROM points_ledger l
               WHERE l.source = 'survey_reward' AND NOT EXISTS (
                 SELECT 1 FROM survey_responses r JOIN survey_forms f ON f.id = r.form_id
                 WHERE l.idempotency_key = 'survey-reward:' || f.form_no)""",
        ),
        (
            S(
                "Integrity",
                "{count} complaints whose goodwill points differ from the points ledger (complaints: {examples})",
            ),
            """SELECT CAST(c.id AS VARCHAR(20)) FROM complaints c
               LEFT JOIN (SELECT e.complaint_id, SUM(l.delta) AS points FROM complaint_events e
                          JOIN points_ledger l ON l.id = e.ledger_id GROUP BY e.complaint_id) g
                 ON g.complaint_id = c.id
               WHERE c.goodwill_points <> COALESCE(g.points, 0)""",
        ),
    ]
    return [problem for message, sql in checks if (problem := _run(session, message, sql)) is not None]


_COUPON_CHECKS: list[tuple[str, str]] = [
    (
        S("Integrity", "{count} coupons redeemed more than once without a return in between (coupons: {examples})"),
        """SELECT c.code FROM coupons c JOIN coupon_ledger l ON l.coupon_id = c.id
           GROUP BY c.id, c.code
           HAVING SUM(CASE l.action WHEN 'redeem' THEN 1 WHEN 'restore' THEN -1 ELSE 0 END) NOT IN (0, 1)""",
    ),
    (
        S("Integrity", "{count} coupons whose state differs from their ledger (coupons: {examples})"),
        """SELECT c.code FROM coupons c
           LEFT JOIN (SELECT coupon_id, MAX(id) AS last FROM coupon_ledger WHERE action <> 'print'
                      GROUP BY coupon_id) t ON t.coupon_id = c.id
           LEFT JOIN coupon_ledger l ON l.id = t.last
           WHERE COALESCE(CASE l.action WHEN 'issue' THEN 'issued' WHEN 'restore' THEN 'issued'
                          WHEN 'redeem' THEN 'redeemed' WHEN 'void' THEN 'void' WHEN 'expire' THEN 'expired' END, '-')
                 <> c.status""",
    ),
    (
        S("Integrity", "{count} coupon discounts that belong to no coupon redemption of a sale (sales: {examples})"),
        """SELECT CAST(s.id AS VARCHAR(20)) FROM sales s
           WHERE s.kind = 'sale' AND s.coupon_id IS NOT NULL AND NOT EXISTS (
                    SELECT 1 FROM coupon_ledger l
                    WHERE l.sale_id = s.id AND l.coupon_id = s.coupon_id AND l.action = 'redeem')""",
    ),
    (
        S("Integrity", "{count} coupon redemptions that name no sale with that coupon (ledger rows: {examples})"),
        """SELECT CAST(l.id AS VARCHAR(20)) FROM coupon_ledger l
           LEFT JOIN sales s ON s.id = l.sale_id
           WHERE l.action = 'redeem' AND (s.id IS NULL OR s.coupon_id IS NULL OR s.coupon_id <> l.coupon_id)""",
    ),
]


def coupon_problems(session: Session) -> list[Problem]:
    """The coupon invariants (DESIGN.md §4): a coupon redeemed at most once at a time, its state the one its ledger
    ends in, and every coupon discount on a sale backed by that coupon's redemption."""
    return [problem for message, sql in _COUPON_CHECKS if (problem := _run(session, message, sql)) is not None]


def _run(session: Session, message: str, sql: str) -> Problem | None:
    rows = [str(r[0]) for r in session.execute(text(sql))]
    if not rows:
        return None
    return Problem(message, len(rows), rows[:SAMPLE])


@dataclass(frozen=True)
class StoreCheck:
    problems: list[Problem]
    """Every problem found; empty when the store is sound."""
    heads: list[ChainHead]
    """Each branch chain's head as verified (the last entry the check saw)."""


def check_database(db: Database) -> list[Problem]:
    """Every problem found; an empty list means the database is sound."""
    return check_store(db).problems


def check_store(db: Database) -> StoreCheck:
    """The whole check, read from one snapshot of the store (`Database.read_snapshot`): counters writing meanwhile
    never make a consistent store look inconsistent, and a real problem is still seen."""
    return db.read_snapshot(lambda session: StoreCheck(_problems(session, db.is_sqlite), chain_heads(session)))


def _problems(session: Session, is_sqlite: bool) -> list[Problem]:
    problems: list[Problem] = []
    if is_sqlite:
        result = [r[0] for r in session.execute(text("PRAGMA integrity_check"))]
        if result != ["ok"]:
            problems.append(
                Problem(
                    S("Integrity", "SQLite reports the file is damaged: {examples}"),
                    len(result),
                    result[:SAMPLE],
                )
            )
            return problems
        fk = session.execute(text("PRAGMA foreign_key_check")).all()
        if fk:
            problems.append(
                Problem(
                    S("Integrity", "{count} rows point at rows that do not exist ({examples})"),
                    len(fk),
                    [f"{r[0]}#{r[1]}" for r in fk[:SAMPLE]],
                )
            )
    for message, sql in _CHECKS:
        problem = _run(session, message, sql)
        if problem is not None:
            problems.append(problem)
    problems += [Problem(f.message, f.count, f.examples) for f in check_audit(session)]
    problems.extend(_care_problems(session))
    problems.extend(coupon_problems(session))
    problems.extend(Problem(message, len(found), found[:SAMPLE]) for message, found in spend_month_problems(session))
    month_totals = _month_totals_problem(session)
    if month_totals is not None:
        problems.append(month_totals)
    day_figures = _day_totals_problem(session)
    if day_figures is not None:
        problems.append(day_figures)
    points_days = points_totals.differences(session.connection(), read_settings(session).store_timezone)
    if points_days:
        problems.append(Problem(POINTS_TOTALS_DIFFER, len(points_days), points_days[:SAMPLE]))
    pending = [name for name, _create in pending_indexes(session.connection())]
    if pending:
        message = S(
            "Integrity",
            "{count} lookup indexes are missing because an import or demo was stopped half-way; "
            "`main.py db upgrade` builds them again ({examples})",
        )
        problems.append(Problem(message, len(pending), pending[:SAMPLE]))
    return problems


def _month_totals_problem(session: Session) -> Problem | None:
    """The per-member monthly totals the segments read must equal the sales they sum."""
    differing = month_total_differences(session.connection(), read_settings(session).store_timezone)
    if not differing:
        return None
    message = S(
        "Integrity",
        "{count} members' monthly purchase totals differ from their sales; `main.py segments --recount` "
        "counts them again (member ids: {examples})",
    )
    return Problem(message, len(differing), differing[:SAMPLE])


DAY_TOTALS_DIFFER = S(
    "Integrity",
    "{count} days' sales totals differ from the sales; `main.py report recount` counts them again ({examples})",
)


POINTS_TOTALS_DIFFER = S(
    "Integrity",
    "{count} days' points totals differ from the points ledger; `main.py report recount` counts them again "
    "({examples})",
)


def _day_totals_problem(session: Session) -> Problem | None:
    """The per-branch and per-category day totals the dashboard reads must equal the sales they sum."""
    differing = day_totals.differences(session.connection(), read_settings(session).store_timezone)
    if not differing:
        return None
    return Problem(DAY_TOTALS_DIFFER, len(differing), differing[:SAMPLE])


def rebuild_indexes(db: Database) -> int:
    """Build the indexes a stopped import or demo left down (`db upgrade`); returns how many. Not while an import
    or a demo is running: it would build them under that load."""
    return db.write(lambda session: restore_indexes(session.connection()))
