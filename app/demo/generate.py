"""`main.py demo`: fill a store with a realistic, reproducible demo (members, two years of purchases, points,
gifts, returns, tiers, complaints), fast enough for a million members.

How it stays fast: members are drawn and their whole history is replayed in plain Python (people.py,
history.py), then written with executemany in batches of BATCH_MEMBERS members, one transaction each (writer.py).

Cancelling (the progress callback returns False) stops before the next batch and raises DemoCancelled: the
batches already written stay, each complete — every member with all their purchases, points and lots — so the
store passes `db check`; it simply has fewer members than asked for.

Reproducible: the same seed gives the same members, purchases and points (on any backend). The history ends at the
store's clock ("now") so the store looks alive; made on another day, the demo has the same people with the same
number of visits, but the dates move with the calendar (weekends and festivals are real dates) and with them the
festival-sized baskets and the points that depend on dates.

Scale: about 9 purchases per member over the default 730 days (a long tail: a few families shopping twice a week,
many who came once or twice), the same rates at any size: 1M members make about 9M sales.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from app.context import Store
from app.demo.calendar import ShoppingCalendar
from app.demo.care import add_care_history
from app.demo.catalog import (
    STAFF,
    TAG_FRESH,
    TAG_MOTHER,
    TAG_OFFICE,
    TAG_SENIOR,
    TAG_STUDENT,
    TAG_THRIFTY,
)
from app.demo.coupons import add_demo_coupons
from app.demo.desk import add_service_desk
from app.demo.history import HistoryBuilder, Ids, Rows, Totals
from app.demo.people import PeopleDrawer, Person
from app.demo.shop import Shop, prepare_shop
from app.demo.writer import BulkWriter, ValueCodec
from app.errors import MemberDeskError, ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate
from app.insights.aggregates import rebuild_all
from app.members.pinyin import pinyin_keys
from app.money import format_yuan
from app.security.operator import Operator
from app.trust.audit import record_audit
from app.workers import fork_helps, in_child
from db import day_totals, points_totals, spend_months
from db.enums import MemberStatus, StaffRole
from db.models import Member

log = logging.getLogger("memberdesk.demo")

BATCH_MEMBERS = 2000
"""Members per transaction. Part of what a seed means (referrers are drawn within a batch): changing it changes
the demo."""
MAX_MEMBERS = 5_000_000
BULK_LOAD_MEMBERS = 20_000
"""From this size on, the filled tables' secondary indexes are dropped during the load and rebuilt after it."""
WORKER_MEMBERS = 50_000
"""From this size on, members are generated in a worker process while this one writes (see BatchMaker)."""
TAGS = [TAG_MOTHER, TAG_SENIOR, TAG_OFFICE, TAG_THRIFTY, TAG_STUDENT, TAG_FRESH]

Progress = Callable[[int, int, str], bool]


@dataclass(frozen=True)
class DemoOptions:
    members: int = 3000
    days: int = 730
    seed: int = 20261123
    force: bool = False
    """Add the demo to a store that already has members (their phones are left alone)."""
    coupons: bool = True
    """Coupon campaigns, some redeemed with purchases made at the counter after the history (app.demo.coupons)."""


class StoreNotEmpty(MemberDeskError):
    """The store has members and the demo was not forced: a demo must not mix with a real store's data by accident."""


class DemoCancelled(MemberDeskError):
    """Stopped between two batches; what was written is complete and consistent."""


def generate_demo(store: Store, options: DemoOptions, progress: Progress) -> str:
    """Fill the store; returns a one-paragraph summary to show. See the module docstring for cancelling."""
    if not 1 <= options.members <= MAX_MEMBERS:
        raise ValidationError(S("Errors", "Demo members must be between 1 and {most}."), most=MAX_MEMBERS)
    if not 1 <= options.days <= 3650:
        raise ValidationError(S("Errors", "Demo days must be between 1 and 3650."))
    started = time.perf_counter()
    existing = store.db.read(lambda s: s.scalar(select(func.count()).select_from(Member)) or 0)
    if existing and not options.force:
        raise StoreNotEmpty(
            S("Errors", "The store already has {count} members; a demo only fills an empty store (or use --force)."),
            count=existing,
        )
    now = store.clock.now()
    shop = prepare_shop(store.db, options.members, TAGS, now)
    calendar = ShoppingCalendar(now, options.days, ZoneInfo(shop.settings.store_timezone))
    try:
        with _collector_paused():
            builder = _load(store, options, shop, calendar, existing > 0, progress)
    except DemoCancelled:  # the whole batches written stay: the day totals and the spend months count their sales
        store.db.write(lambda session: _count_cancelled(session.connection(), shop.settings.store_timezone))
        raise
    complaints, tasks = store.db.write(lambda session: _finish(session, options, shop, builder, calendar))
    if options.coupons:
        add_demo_coupons(store, options.seed)
    store.db.write(lambda session: _count_totals(session.connection(), shop.settings.store_timezone))
    seconds = time.perf_counter() - started
    log.info("demo: %d members, %d sales in %.1f s", builder.totals.members, builder.totals.sales, seconds)
    return _summary(options, builder.totals, shop, calendar, complaints, tasks, seconds)


def _count_totals(conn: Connection, timezone: str) -> None:
    """The demo writes its sales in bulk: the members' months and the day totals are counted from them after."""
    rebuild_all(conn, timezone)
    spend_months.rebuild(conn, timezone)
    day_totals.rebuild(conn, timezone)
    points_totals.rebuild(conn, timezone)


def _count_cancelled(conn: Connection, timezone: str) -> None:
    day_totals.rebuild(conn, timezone)
    spend_months.rebuild(conn, timezone)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Millions of small tuples and no reference cycles: the cyclic garbage collector would only rescan them."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _load(
    store: Store, options: DemoOptions, shop: Shop, calendar: ShoppingCalendar, has_members: bool, progress: Progress
) -> HistoryBuilder:
    """Draw, replay and write the members batch by batch; returns the builder with its totals."""
    taken_phones, taken_cards = store.db.read(_taken_numbers) if has_members else (set(), set())
    codec = ValueCodec(store.db)
    writer = BulkWriter(store.db, Operator(shop.owner_id, shop.branch_ids[0], StaffRole.OWNER, "demo"))
    what = translate("Demo", S("Demo", "Demo members"))
    rebuilding = translate("Demo", S("Demo", "Rebuilding indexes"))
    with writer.connection() as conn:
        writer.restore_indexes(conn)  # left down by a demo that was killed half-way
        ids = Ids(writer.next_ids(conn))
        builder = HistoryBuilder(
            options.seed,
            shop,
            calendar,
            ids,
            codec.stamp,
            codec.day,
            store.cipher,
            lru_cache(maxsize=200_000)(pinyin_keys),
            taken_cards,
        )
        drawer = PeopleDrawer(options.seed, shop, calendar, taken_phones)
        maker = BatchMaker(drawer, builder, options.members)
        bulk = options.members >= BULK_LOAD_MEMBERS
        if bulk:
            writer.drop_indexes(conn)
        loading = time.perf_counter()
        try:
            done = 0
            for end, rows, expected in maker.in_worker() if _worker_helps(options) else maker.here():
                if not progress(done, options.members, what):
                    raise DemoCancelled(
                        S("Errors", "Demo stopped after {done} of {total} members; those are complete."),
                        done=done,
                        total=options.members,
                    )
                writer.write(conn, rows, expected)
                done = end
            progress(options.members, options.members, what)
            log.info("demo: members loaded in %.1f s", time.perf_counter() - loading)
        finally:
            if bulk:
                progress(0, 1, rebuilding)
                rebuilt = time.perf_counter()
                writer.restore_indexes(conn)
                log.info("demo: indexes rebuilt in %.1f s", time.perf_counter() - rebuilt)
                progress(1, 1, rebuilding)
    return builder


def _worker_helps(options: DemoOptions) -> bool:
    return options.members >= WORKER_MEMBERS and fork_helps()


Batch = tuple[int, Rows, dict[str, int]]
"""Members done once this batch is written, its rows, and the ids it starts from."""
Outcome = tuple[Totals, list[tuple[int, int, int, int]]]
"""The builder's totals and complaint candidates once every batch is made."""


class BatchMaker:
    """Draws members and replays their histories, batch by batch, here or in a worker process."""

    def __init__(self, drawer: PeopleDrawer, builder: HistoryBuilder, members: int) -> None:
        self.drawer = drawer
        self.builder = builder
        self.members = members

    def here(self) -> Generator[Batch, None, Outcome]:
        for start in range(0, self.members, BATCH_MEMBERS):
            end = min(start + BATCH_MEMBERS, self.members)
            people: list[Person] = []
            for ordinal in range(start, end):
                people.append(self.drawer.draw(ordinal, people))
            expected = dict(self.builder.ids.next)
            yield end, self.builder.build(people), expected
        return self.builder.totals, self.builder.complaint_candidates

    def in_worker(self) -> Generator[Batch, None, Outcome]:
        """The same batches made by a forked child while this process writes the previous ones (on two cores
        a 1M-member demo takes about a quarter less time); the child's totals come back at the end."""
        outcome = yield from in_child(self.here, "demo-generator")
        self.builder.totals, self.builder.complaint_candidates = outcome
        return outcome


def _taken_numbers(session: Session) -> tuple[set[int], set[str]]:
    """Phones and card numbers the store's active members already hold: a forced demo must not reuse them."""
    rows = session.execute(select(Member.phone, Member.card_no).where(Member.status == MemberStatus.ACTIVE)).all()
    return {int(p) for p, _ in rows if p and p.isdigit()}, {c for _, c in rows if c}


def _finish(
    session: Session,
    options: DemoOptions,
    shop: Shop,
    builder: HistoryBuilder,
    calendar: ShoppingCalendar,
) -> tuple[int, int]:
    complaints, tasks = add_service_desk(session, options.seed, shop, builder.complaint_candidates, calendar.now)
    add_care_history(session, options.seed, shop, calendar.now, options.days)
    owner = Operator(shop.owner_id, shop.branch_ids[0], StaffRole.OWNER, "owner")
    record_audit(
        session,
        owner,
        "demo",
        "store",
        None,
        {"members": builder.totals.members, "days": options.days, "seed": options.seed},
    )
    return complaints, tasks


def _summary(
    options: DemoOptions,
    totals: Totals,
    shop: Shop,
    calendar: ShoppingCalendar,
    complaints: int,
    tasks: int,
    seconds: float,
) -> str:
    tiers = ", ".join(f"{t.name} {totals.tiers.get(t.name, 0):,}" for t in shop.tiers)
    staff = ", ".join(f"{s.username}/{s.pin}" for s in STAFF)
    return translate(
        "Demo",
        S(
            "Demo",
            "Demo store ready in {seconds:.1f} s: {members:,} members ({marketing:,} agreed to marketing, "
            "{referred:,} referred by a friend) at {branches} branches; {sales:,} purchases worth {spend} and "
            "{returns:,} returns from {first} to {last}; {earned:,} points earned, {used:,} paid at the till, "
            "{gifts:,} gifts, {expired:,} expired; tiers: {tiers}; {complaints} complaints, {tasks} follow-up "
            "tasks. Sign in as owner/0000 or {staff}.",
        ),
    ).format(
        seconds=seconds,
        members=totals.members,
        marketing=totals.marketing,
        referred=totals.referred,
        branches=len(shop.branch_ids),
        sales=totals.sales,
        spend=format_yuan(totals.spend_fen),
        returns=totals.returns,
        first=calendar.dates[0].isoformat(),
        last=calendar.dates[-1].isoformat(),
        earned=totals.points_earned,
        used=totals.points_used,
        gifts=totals.gift_redemptions,
        expired=totals.points_expired,
        tiers=tiers,
        complaints=complaints,
        tasks=tasks,
        staff=staff,
    )
