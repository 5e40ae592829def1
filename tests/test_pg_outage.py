"""A chain's PostgreSQL server going away, coming back and running out of connection slots, on a throwaway cluster
of the test's own (stopped and started mid-test): the outage reads as an outage, reads and the start of a write wait
and retry, a counter idles on one connection, and nothing acknowledged is lost or doubled."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import event, func, select, text

from app.context import Store
from app.errors import MemberDeskError, ServerUnreachable, outage_refusal
from app.loyalty.service import PurchaseRequest
from app.members.service import MemberForm, lookup_statements
from db.later import later, read
from db.models import Sale
from dev import find_pg_bindir
from tests.pg_cluster import PgCluster, count_round_trips, round_trips
from tests.staff_support import add_counter_staff
from ui.server_status import ServerStatus
from ui.tasks import SyncTaskRunner

pytestmark = pytest.mark.skipif(find_pg_bindir() is None, reason="needs initdb/pg_ctl (apt package postgresql)")


@pytest.fixture(scope="module")
def cluster() -> Iterator[PgCluster]:
    cluster = PgCluster(5441, {"max_connections": "6", "superuser_reserved_connections": "0"}, durable=True)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
def store(cluster: PgCluster, tmp_path: Path) -> Iterator[Store]:
    with psycopg.connect(_conninfo(cluster), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    store = Store.open(tmp_path, cluster.url)
    add_counter_staff(store)
    yield store
    store.db.dispose()


def _conninfo(cluster: PgCluster) -> str:
    return f"host={cluster.workdir} port={cluster.port} user=postgres dbname=postgres"


def _restart_later(cluster: PgCluster, after_s: float) -> threading.Timer:
    timer = threading.Timer(after_s, cluster.start)
    timer.start()
    return timer


def _sales(store: Store, key: str) -> int:
    count = select(func.count()).select_from(Sale).where(Sale.idempotency_key == key)
    return int(store.db.read(lambda s: s.scalar(count)) or 0)


def test_a_lookup_waits_out_a_server_restart_and_the_state_is_heard(cluster: PgCluster, store: Store) -> None:
    members = store.services(store.operator("cashier")).members
    members.register(MemberForm(phone="13812345678", name="张三", membership_consent=True))
    heard: list[bool] = []
    store.watch_server(heard.append)
    cluster.stop()
    restart = _restart_later(cluster, 1.5)
    found = members.lookup("13812345678")
    restart.join()
    assert len(found.hits) == 1
    assert heard == [False, True]


def test_a_purchase_refused_in_an_outage_is_recorded_exactly_once_when_retried(
    cluster: PgCluster, store: Store
) -> None:
    services = store.services(store.operator("cashier"))
    member = services.members.register(MemberForm(phone="13812345678", name="张三", membership_consent=True))
    request = PurchaseRequest(member_id=member, total_fen=12_300, idempotency_key="outage-1")
    store.db.outage_wait_s = 0.5
    cluster.stop(mode="immediate")
    with pytest.raises(Exception) as refused:
        services.loyalty.record_purchase(request)
    refusal = outage_refusal(refused.value)
    assert isinstance(refusal, ServerUnreachable)
    assert "cannot be reached" in str(refusal)
    assert not store.db.reachable
    cluster.start()
    services.loyalty.record_purchase(request)
    services.loyalty.record_purchase(request)  # the cashier's second click after the outage: the key holds
    assert store.db.reachable
    assert _sales(store, "outage-1") == 1


def test_a_purchase_started_during_a_restart_waits_and_is_recorded_once(cluster: PgCluster, store: Store) -> None:
    services = store.services(store.operator("cashier"))
    member = services.members.register(MemberForm(phone="13812345678", name="张三", membership_consent=True))
    cluster.stop()
    restart = _restart_later(cluster, 1.0)
    result = services.loyalty.record_purchase(PurchaseRequest(member, 5_000, "outage-2"))
    restart.join()
    assert result.balance_after > 0
    assert _sales(store, "outage-2") == 1


def test_too_many_clients_is_an_outage_that_is_waited_out(cluster: PgCluster, store: Store) -> None:
    store.db.dispose()
    hogs = [psycopg.connect(_conninfo(cluster)) for _ in range(6)]  # every slot taken
    heard: list[bool] = []
    store.watch_server(heard.append)
    threading.Timer(1.0, hogs.pop().close).start()
    try:
        store.db.ping()
    finally:
        for hog in hogs:
            hog.close()
    assert heard == [False, True]


def test_a_counter_idles_on_one_connection_and_keeps_its_statements_prepared(cluster: PgCluster, store: Store) -> None:
    members = store.services(store.operator("cashier")).members
    members.register(MemberForm(phone="13812345678", name="张三", membership_consent=True))
    barrier = threading.Barrier(3)

    def busy() -> None:  # the counter's task thread and its maintenance thread at the same moment
        barrier.wait()
        for _ in range(10):
            members.lookup("1381234")

    threads = [threading.Thread(target=busy) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with psycopg.connect(_conninfo(cluster), autocommit=True) as observer:
        others = observer.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchone()
    assert others == (1,)
    # The lookup, run 30 times on the one connection, is prepared (the server plans it once), and read sessions,
    # which end in a rollback, leave it prepared (psycopg would forget every statement at a rollback).
    count = "SELECT count(*) FROM pg_prepared_statements WHERE strpos(statement, 'pg_prepared_statements') = 0"
    prepared = [store.db.read(lambda s: int(s.connection().exec_driver_sql(count).scalar_one())) for _ in range(3)]
    assert prepared[0] >= 1 and len(set(prepared)) == 1, prepared


def test_a_url_can_turn_preparing_off(cluster: PgCluster, store: Store) -> None:
    """For a PgBouncer older than 1.21 in transaction pooling: `?prepare_threshold=none` prepares nothing."""
    members = store.services(store.operator("cashier")).members
    members.register(MemberForm(phone="13812345678", name="张三", membership_consent=True))
    plain = Store.open(store.paths.root, cluster.url + "&prepare_threshold=none", migrate=False)
    try:
        for _ in range(10):
            plain.services(plain.operator("cashier")).members.lookup("1381234")
        count = "SELECT count(*) FROM pg_prepared_statements"
        assert plain.db.read(lambda s: s.connection().exec_driver_sql(count).scalar()) == 0
    finally:
        plain.db.dispose()


def test_lookup_and_profile_are_a_round_trip_each(cluster: PgCluster, store: Store) -> None:
    """The counter's hot reads on a server: no ping, no BEGIN or ROLLBACK, one statement each."""
    members = store.services(store.operator("cashier")).members
    member = members.register(MemberForm(phone="13812345678", name="张三", membership_consent=True))
    for _ in range(5):
        members.profile(members.lookup("13812345678").hits[0].id)
    assert _round_trips(lambda: members.lookup("13812345678")) == 1
    assert _round_trips(lambda: members.profile(member)) == 1


def test_a_purchase_is_ten_round_trips(cluster: PgCluster, store: Store) -> None:
    """A purchase on a server (bench/README.md, "purchase round trips"; 17-18 before): the member's lock; the tiers
    with the settings' version; the sale; its month added with the member's months read back; the ledger row, sent
    with the history row and the branch month; the 12-month figure, with the new lot; the chain head, with the member
    row; the audit entry; the day totals; the commit. Writes nobody waits on ride with the next statement
    (`db.later`)."""
    services = store.services(store.operator("cashier"))
    member = services.members.register(MemberForm(phone="13812345678", name="张三", membership_consent=True))
    for n in range(3):
        services.loyalty.record_purchase(PurchaseRequest(member, 1_000 + n, f"warm-{n}"))
    pinned = PurchaseRequest(member, 2_000, "pinned")
    assert _round_trips(lambda: services.loyalty.record_purchase(pinned)) == 10
    assert _sales(store, "pinned") == 1


def test_writes_nobody_waits_on_go_before_the_next_statement_and_not_after_a_rollback(
    cluster: PgCluster, store: Store
) -> None:
    with store.db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE later_rows (n integer)"))
    count = "SELECT count(*) FROM later_rows"
    with store.db.engine.begin() as conn:
        later(conn, "INSERT INTO later_rows VALUES ({p})", (1,))
        assert conn.scalar(text(count)) == 1  # a statement through SQLAlchemy sends the queue first
        later(conn, "INSERT INTO later_rows VALUES ({p})", [(2,), (3,)], many=True)
        assert _round_trips(lambda: read(conn, count)) == 1
        later(conn, "INSERT INTO later_rows VALUES ({p})", (4,))  # sent by the commit
    with store.db.engine.connect() as conn:
        transaction = conn.begin()
        later(conn, "INSERT INTO later_rows VALUES ({p})", (5,))
        transaction.rollback()
        with conn.begin():
            assert read(conn, "SELECT n FROM later_rows ORDER BY n") == [(1,), (2,), (3,), (4,)]


def test_the_counter_reads_are_planned_before_the_first_customer(cluster: PgCluster, store: Store) -> None:
    """PostgreSQL plans a prepared statement afresh at each of its first five runs (the profile's: ~3.5 ms): after
    `plan_counter_reads` the server keeps one plan for every lookup statement and the profile, and the first lookup
    and profile are one round trip each on that connection."""
    members = store.services(store.operator("cashier")).members
    member = members.register(MemberForm(phone="13812345678", name="张三", membership_consent=True))
    store.plan_counter_reads()
    kept = (
        "SELECT count(*) FROM pg_prepared_statements WHERE generic_plans > 0 AND statement LIKE 'SELECT members.id,%%'"
    )
    parts = sum(len(parts) for _exact, parts in lookup_statements(store.db.engine.dialect).values())
    assert store.db.driver_read(lambda driver: driver.rows(kept)) == [(parts + 1,)]
    assert _round_trips(lambda: members.lookup("13812345678")) == 1
    assert _round_trips(lambda: members.profile(member)) == 1
    assert store.db.driver_read(lambda driver: driver.rows(kept)) == [(parts + 1,)], "no statement prepared again"


def test_a_driver_read_leaves_its_connection_to_the_next_and_to_anyone_else(cluster: PgCluster, store: Store) -> None:
    """Between two of the counter's reads the connection stays parked (no pool checkout or return, ~0.35 ms of Python
    each at a counter), yet it is still the pool's one idle connection: a session on another thread gets that very
    connection, and the counter idles on one."""
    checkouts: list[int] = []
    event.listen(store.db.engine, "checkout", lambda *_args: checkouts.append(1))
    backend = "SELECT pg_backend_pid()"

    def pid() -> int:
        return int(store.db.driver_read(lambda driver: driver.rows(backend))[0][0])

    first = pid()
    assert [pid(), pid()] == [first, first] and len(checkouts) == 1
    seen: list[int] = []
    other = threading.Thread(
        target=lambda: seen.append(store.db.read(lambda s: int(s.connection().exec_driver_sql(backend).scalar_one())))
    )
    other.start()
    other.join()
    assert seen == [first] and pid() == first
    with psycopg.connect(_conninfo(cluster), autocommit=True) as observer:
        others = observer.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchone()
    assert others == (1,)


def _round_trips(work: Callable[[], object]) -> int:
    """How many times `work` waited for the server's answer."""
    count_round_trips()
    before = round_trips()
    work()
    return round_trips() - before


def test_the_counter_reads_an_outage_as_one_and_shows_the_server_state(
    qtbot: QtBot, cluster: PgCluster, store: Store
) -> None:
    members = store.services(store.operator("cashier")).members
    runner = SyncTaskRunner()
    status = ServerStatus(runner)
    qtbot.addWidget(status)
    status.watch(store)
    assert not status.isHidden()
    assert status.text() == "Server: connected"
    store.db.outage_wait_s = 0.3
    cluster.stop(mode="immediate")
    refusals: list[MemberDeskError] = []
    runner.run(lambda: members.lookup("13812345678"), on_error=refusals.append)
    assert [type(r) for r in refusals] == [ServerUnreachable]  # a refusal to show, not the crash dialog
    qtbot.waitUntil(lambda: status.text() == "The server cannot be reached — retrying")
    cluster.start()
    qtbot.waitUntil(lambda: status.text() == "Server: connected", timeout=10_000)  # the probe found it again
    found: list[object] = []
    runner.run(lambda: members.lookup("13812345678"), found.append)
    assert found
