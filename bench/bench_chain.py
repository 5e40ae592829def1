"""A chain's counters against one PostgreSQL server: N simulated counters, each with its own connection pool as a real
counter has, each in a process of its own as on its own PC (`--per-process N`: N counters' threads share one
interpreter). Every 2–6 s a counter looks a member up by phone and opens the profile, then records a purchase
(60 %), a gift (10 %) or a return of one of its own purchases (10 %). The run starts once every counter has opened
the store and made its connection ready as the GUI does (`Store.plan_counter_reads`): a chain's counters are opened
before the customers come, not all at once on the server's two cores while the others serve.

The benchmark starts its own PostgreSQL cluster on a unix socket (durable settings: fsync on; in RAM, /dev/shm, unless
`--server-dir` names a folder on disk, where every commit waits for the disk as on a real server), makes a store with
`--members` members, and prints per N the lookup (lookup + profile) and purchase p50/p95/p99/max with the counter
thread's own CPU time per operation (comparable on a busy machine, where wall times are waits for a core), the
round trips to the server per operation (each time psycopg waited for the server's answer), the server's CPU per
operation, the load average, the most client connections pg_stat_activity showed, and the errors. The baseline, one
counter alone with no think time, runs first in the same run: lookups alone (the server's CPU per lookup + profile),
then the whole mix. An operation refused because the server could not be
reached is retried with the same idempotency key, as the counter's dialog does.

`--restart-mid-run` stops the server half-way for `--outage` seconds (`pg_ctl stop -m fast`, then start), and then
proves every acknowledged purchase, gift and return is stored exactly once, nothing unacknowledged is stored, and
`db check` passes; it prints how soon after the server came back each counter had an operation acknowledged again.

    .venv/bin/python bench/bench_chain.py --counters 10 50 --seconds 60
    .venv/bin/python bench/bench_chain.py --counters 50 --seconds 60 --restart-mid-run
    .venv/bin/python bench/bench_chain.py --counters 50 --seconds 120 --restart-mid-run --outage 30
    .venv/bin/python bench/bench_chain.py --counters 50 --seconds 90 --check-and-backup
    .venv/bin/python bench/bench_chain.py --counters 50 --seconds 90 --server-dir /var/tmp

`--check-and-backup` runs `main.py db check` and `main.py backup` (pg_dump) against the server a quarter into the
run, beside the counters, and prints each one's exit status, time and last line (and the problems of one that
failed).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.context import Services, Store
from app.errors import InsufficientPoints, MemberDeskError, ServerUnreachable, outage_refusal
from app.integrity import check_database
from app.loyalty.catalogue import GiftInput
from app.loyalty.service import PurchaseRequest
from app.members.service import MemberForm
from db.models import GiftRedemption, Sale
from tests.pg_cluster import PgCluster, count_round_trips, round_trips
from tests.staff_support import add_counter_staff

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
PORT = 5442
THINK_S = (2.0, 6.0)
BASELINE_S = 10.0
COUNTERS_PER_PROCESS = 1
"""A counter is a PC of its own: one interpreter each. `--per-process N` puts N counters' threads in one interpreter,
whose lock then makes them wait for each other (a wait a counter PC never has)."""
TARGETS = "targets at 50 counters (issue 16): lookup p95 <= 5 ms, p99 <= 20 ms; purchase p95 <= 30 ms; 0 errors"


@dataclass
class CounterLog:
    lookups: list[float] = field(default_factory=list)
    purchases: list[float] = field(default_factory=list)
    lookup_cpu: list[float] = field(default_factory=list)
    """The counter thread's own CPU time of each lookup (time.thread_time: waiting for the server or a core is not
    in it), the figure to compare across runs on a busy machine."""
    purchase_cpu: list[float] = field(default_factory=list)
    lookup_trips: list[int] = field(default_factory=list)
    purchase_trips: list[int] = field(default_factory=list)
    lookup_at: list[float] = field(default_factory=list)
    """time.monotonic() at the end of each lookup (to tell apart those made while `db check` and the backup ran)"""
    purchase_at: list[float] = field(default_factory=list)
    acked: list[str] = field(default_factory=list)
    acked_at: list[float] = field(default_factory=list)
    """time.monotonic() of each acknowledgement (one clock for every process on the machine)"""
    errors: list[str] = field(default_factory=list)
    outage_retries: int = 0
    refusals: int = 0


def phone(n: int) -> str:
    return f"139{n:08d}"


def make_store(data_dir: Path, url: str, members: int) -> int:
    store = Store.open(data_dir, url)
    add_counter_staff(store)
    owner = store.services(store.operator("owner"))
    gift = owner.catalogue.add_gift(GiftInput(name="环保袋", points_price=50, stock=1_000_000)).id
    assert gift is not None
    for n in range(members):
        owner.members.register(MemberForm(phone=phone(n), name=f"会员{n}", membership_consent=True))
    store.db.dispose()
    return gift


def acknowledge(log: CounterLog, key: str) -> None:
    log.acked.append(key)
    log.acked_at.append(time.monotonic())


def patiently(log: CounterLog, work: Callable[..., T], *args: Any) -> T:
    """`work(*args)`, tried again with the same request while the server is unreachable (the dialog keeps its key)."""
    while True:
        try:
            return work(*args)
        except Exception as exc:
            if isinstance(outage_refusal(exc) or exc, ServerUnreachable):
                log.outage_retries += 1
                time.sleep(1.0)
                continue
            raise


def counter(
    data_dir: Path,
    url: str,
    members: int,
    gift: int,
    seconds: float,
    seed: int,
    log: CounterLog,
    think: tuple[float, float] = THINK_S,
    lookups_only: bool = False,
    opened: Any = None,
) -> None:
    """`seconds` of work once the store is open and made ready as the GUI does (`Store.plan_counter_reads`) and,
    with `opened` (a barrier), every other counter too: the counters of a chain are opened before the customers
    come, not all at once on the server's machine while the others serve. `lookups_only`: lookup + profile and
    nothing else (the baseline's first part)."""
    count_round_trips()
    rng = random.Random(seed)
    store = Store.open(data_dir, url, migrate=False)
    store.plan_counter_reads()
    services: Services = store.services(store.operator("cashier"))
    if opened is not None:
        opened.wait()
    deadline = time.monotonic() + seconds
    mine: list[int] = []
    time.sleep(rng.uniform(0, think[1] / 3))
    while time.monotonic() < deadline:
        time.sleep(rng.uniform(*think))
        try:
            started, cpu, sent = time.perf_counter(), time.thread_time(), round_trips()
            number = rng.randrange(members)
            hit = patiently(log, services.members.lookup, phone(number))
            member_id = hit.hits[0].id
            patiently(log, services.members.profile, member_id)
            log.lookups.append(time.perf_counter() - started)
            log.lookup_cpu.append(time.thread_time() - cpu)
            log.lookup_trips.append(round_trips() - sent)
            log.lookup_at.append(time.monotonic())
            if lookups_only:
                continue
            roll = rng.random()
            key = f"chain:{uuid.uuid4()}"
            if roll < 0.6:
                request = PurchaseRequest(member_id, rng.randint(500, 50_000), key)
                started, cpu, sent = time.perf_counter(), time.thread_time(), round_trips()
                result = patiently(log, services.loyalty.record_purchase, request)
                log.purchases.append(time.perf_counter() - started)
                log.purchase_cpu.append(time.thread_time() - cpu)
                log.purchase_trips.append(round_trips() - sent)
                log.purchase_at.append(time.monotonic())
                mine.append(result.sale_id)
                acknowledge(log, key)
            elif roll < 0.7:
                patiently(log, services.loyalty.redeem_gift, member_id, gift, 1, key)
                acknowledge(log, key)
            elif roll < 0.8 and mine:
                sale = mine.pop(rng.randrange(len(mine)))
                patiently(log, services.loyalty.return_sale, sale, key, "bench")
                acknowledge(log, key)
        except InsufficientPoints:
            log.refusals += 1
        except MemberDeskError as exc:
            log.errors.append(f"refused: {exc.english}")
        except Exception as exc:
            log.errors.append(f"{type(exc).__name__}: {exc}"[:200])
    store.db.dispose()


def process_main(
    data_dir: Path, url: str, members: int, gift: int, seconds: float, seeds: list[int], opened: Any, out: mp.Queue
) -> None:
    logs = [CounterLog() for _ in seeds]
    threads = [
        threading.Thread(
            target=counter, args=(data_dir, url, members, gift, seconds, seed, log, THINK_S, False, opened)
        )
        for seed, log in zip(seeds, logs, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put(logs)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def describe(name: str, values: list[float], cpu: list[float], sent: list[int] | None = None) -> str:
    line = (
        f"{name:9s} n={len(values):5d}  p50 {pct(values, 0.5):7.1f}  p95 {pct(values, 0.95):7.1f}  "
        f"p99 {pct(values, 0.99):7.1f}  max {max(values, default=float('nan')) * 1000:7.1f} ms;  "
        f"client CPU p50 {pct(cpu, 0.5):5.2f}  p95 {pct(cpu, 0.95):5.2f} ms"
    )
    if sent:
        line += f";  round trips mean {sum(sent) / len(sent):4.1f} max {max(sent)}"
    return line


def load() -> str:
    return "load average " + " ".join(f"{v:.1f}" for v in os.getloadavg())


def _stat(pid: int) -> list[str]:
    return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()


def server_cpu_s(cluster: PgCluster) -> float:
    """CPU seconds the server has used so far: the postmaster, its children that have exited (which it has waited
    for), and its live backends, from /proc (0 when the server is not running)."""
    try:
        postmaster = int((cluster.datadir / "postmaster.pid").read_text().split()[0])
        own = _stat(postmaster)
    except (OSError, ValueError, IndexError):
        return 0.0
    ticks = sum(int(v) for v in own[11:15])  # utime, stime, cutime, cstime
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat(int(entry.name))
        except OSError:
            continue
        if int(fields[1]) == postmaster:  # ppid
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def client_connections(cluster: PgCluster) -> int | None:
    conninfo = f"host={cluster.workdir} port={cluster.port} user=postgres dbname=postgres"
    try:
        with psycopg.connect(conninfo, connect_timeout=2, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
                "AND pid <> pg_backend_pid()"
            ).fetchone()
    except psycopg.OperationalError:
        return None
    return int(row[0]) if row else None


def recovery(down: tuple[float, float], logs: list[CounterLog]) -> str:
    """What the counters did about the outage: nothing acknowledged while the server was down, and how soon after it
    came back each counter had its next operation acknowledged (the ones caught mid-operation wait it out)."""
    stopped, back = down
    during = sum(stopped < t < back for log in logs for t in log.acked_at)
    firsts = sorted(
        min(t for t in log.acked_at if t >= back) - back for log in logs if any(t >= back for t in log.acked_at)
    )
    return (
        f"outage {back - stopped:.1f} s: {during} operations acknowledged while down; "
        f"{len(firsts)}/{len(logs)} counters acknowledged operations afterwards, the first after "
        f"p50 {pct(firsts, 0.5) / 1000:.1f} s, max {max(firsts, default=float('nan')):.1f} s "
        f"(think time {THINK_S[0]:.0f}–{THINK_S[1]:.0f} s)"
    )


def run_cli(data_dir: Path, url: str, args: list[str], report: list[str], ended: list[float]) -> None:
    """One `main.py` command against the chain's server, as an owner runs it beside the working counters."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--data-dir", str(data_dir), "--database", url, *args],
        capture_output=True,
        text=True,
    )
    last = (done.stdout.strip() or done.stderr.strip()).splitlines()[-1:] or [""]
    report.append(f"`{' '.join(args[:2])}` exit {done.returncode} in {time.perf_counter() - started:.1f} s: {last[0]}")
    if done.returncode != 0:
        report.extend(f"    {line}" for line in done.stderr.strip().splitlines()[-10:])
    ended.append(time.monotonic())


def split_by_window(
    logs: list[CounterLog], window: tuple[float, float] | None
) -> list[tuple[str, list[float], list[float], list[float], list[float]]]:
    """(what, lookups, their CPU, purchases, their CPU) made while `db check` and the backup ran, and the others."""
    if window is None:
        return []
    start, end = window
    parts = []
    for name, inside in (("while db check and backup ran", True), ("the rest of the run", False)):

        def pick(
            values: list[float], cpu: list[float], at: list[float], inside: bool = inside
        ) -> tuple[list[float], list[float]]:
            chosen = [i for i, t in enumerate(at) if (start <= t <= end) == inside]
            return [values[i] for i in chosen], [cpu[i] for i in chosen]

        lookups = [pick(log.lookups, log.lookup_cpu, log.lookup_at) for log in logs]
        purchases = [pick(log.purchases, log.purchase_cpu, log.purchase_at) for log in logs]
        parts.append(
            (
                f"{name} ({end - start:.1f} s)" if inside else name,
                [v for values, _ in lookups for v in values],
                [v for _, cpu in lookups for v in cpu],
                [v for values, _ in purchases for v in values],
                [v for _, cpu in purchases for v in cpu],
            )
        )
    return parts


def verify(data_dir: Path, url: str, acked: list[str]) -> list[str]:
    """Every acknowledged operation stored exactly once, nothing else stored, and `db check` passes."""
    store = Store.open(data_dir, url, migrate=False)
    stored: list[str] = store.db.read(
        lambda s: [
            *s.scalars(select(Sale.idempotency_key).where(Sale.idempotency_key.like("chain:%"))),
            *s.scalars(select(GiftRedemption.idempotency_key).where(GiftRedemption.idempotency_key.like("chain:%"))),
        ]
    )
    problems = [f"stored {stored.count(k)} times: {k}" for k in set(acked) if stored.count(k) != 1]
    problems += [f"stored but never acknowledged: {k}" for k in set(stored) - set(acked)]
    problems += [f"db check: {p}" for p in check_database(store.db)]
    store.db.dispose()
    return problems


def run(
    n: int,
    seconds: float,
    members: int,
    restart: bool,
    outage: float,
    commands: list[list[str]],
    server_dir: str | None,
    per_process: int = COUNTERS_PER_PROCESS,
) -> bool:
    cluster = PgCluster(PORT, durable=True, parent=server_dir)
    cluster.start()
    data_dir = Path(tempfile.mkdtemp(prefix="memberdesk-chain-"))
    try:
        gift = make_store(data_dir, cluster.url, members)
        looking = CounterLog()
        time.sleep(1.0)  # the server counts an exited backend's CPU once it has reaped it
        server_before = server_cpu_s(cluster)
        counter(data_dir, cluster.url, members, gift, BASELINE_S / 2, -2, looking, think=(0.0, 0.0), lookups_only=True)
        time.sleep(1.0)
        per_lookup = (server_cpu_s(cluster) - server_before) * 1000 / max(1, len(looking.lookups))
        alone = CounterLog()
        server_before = server_cpu_s(cluster)
        counter(data_dir, cluster.url, members, gift, BASELINE_S, -1, alone, think=(0.0, 0.0))
        operations = len(alone.lookups) + len(alone.purchases)
        time.sleep(1.0)
        print(f"N={n} counters ({per_process} a process), {seconds:.0f} s, {members} members; {load()}")
        print(f"  server in {cluster.workdir}")
        print("  baseline: one counter alone, no think time, in this process")
        print("    lookups alone:")
        print("    " + describe("lookup", looking.lookups, looking.lookup_cpu, looking.lookup_trips))
        print(f"    server CPU {per_lookup:.2f} ms a lookup + profile")
        print("    the whole mix:")
        print("    " + describe("lookup", alone.lookups, alone.lookup_cpu, alone.lookup_trips))
        print("    " + describe("purchase", alone.purchases, alone.purchase_cpu, alone.purchase_trips))
        per_operation = (server_cpu_s(cluster) - server_before) * 1000 / max(1, operations)
        print(f"    server CPU {per_operation:.2f} ms a lookup or purchase")
        server_before = server_cpu_s(cluster)
        out: mp.Queue = mp.Queue()
        seeds = list(range(n))
        opened = mp.Barrier(n + 1)
        processes = [
            mp.Process(
                target=process_main,
                args=(data_dir, cluster.url, members, gift, seconds, seeds[i : i + per_process], opened, out),
            )
            for i in range(0, n, per_process)
        ]
        for process in processes:
            process.start()
        opened.wait()  # every counter's store open: the run starts
        deadline = time.monotonic() + seconds
        server_before = server_cpu_s(cluster)
        print(f"  {n} counters open; {load()}", flush=True)
        most = 0
        down: tuple[float, float] | None = None
        beside: list[threading.Thread] = []
        reports: list[str] = []
        ended: list[float] = []
        beside_from = 0.0
        while time.monotonic() < deadline:
            time.sleep(1.0)
            most = max(most, client_connections(cluster) or 0)
            if commands and not beside and time.monotonic() > deadline - seconds * 3 / 4:
                print(f"  running {' and '.join(' '.join(c[:2]) for c in commands)} beside the counters…", flush=True)
                beside_from = time.monotonic()
                beside = [
                    threading.Thread(target=run_cli, args=(data_dir, cluster.url, command, reports, ended))
                    for command in commands
                ]
                for thread in beside:
                    thread.start()
            if restart and down is None and time.monotonic() > deadline - seconds / 2:
                print(f"  stopping the server for {outage:.0f} s…", flush=True)
                cluster.stop()
                stopped = time.monotonic()
                time.sleep(outage)
                cluster.start()
                down = (stopped, time.monotonic())
        logs: list[CounterLog] = [log for _ in processes for log in out.get()]
        for process in processes:
            process.join()
        for thread in beside:
            thread.join()
        lookups = [v for log in logs for v in log.lookups]
        purchases = [v for log in logs for v in log.purchases]
        errors = [e for log in logs for e in log.errors]
        acked = [k for log in [alone, *logs] for k in log.acked]
        server_used = server_cpu_s(cluster) - server_before
        print(f"  {n} counters together; {load()}")
        lookup_trips = [v for log in logs for v in log.lookup_trips]
        purchase_trips = [v for log in logs for v in log.purchase_trips]
        print("    " + describe("lookup", lookups, [v for log in logs for v in log.lookup_cpu], lookup_trips))
        print("    " + describe("purchase", purchases, [v for log in logs for v in log.purchase_cpu], purchase_trips))
        if down is None:
            print(
                f"    server CPU {server_used:.1f} s over the run (of {seconds * (os.cpu_count() or 1):.0f} core-s), "
                f"{server_used * 1000 / max(1, len(lookups) + len(purchases)):.2f} ms a lookup or purchase"
            )
        for what, lookup, lookup_cpu, purchase, purchase_cpu in split_by_window(
            logs, (beside_from, max(ended)) if ended else None
        ):
            print(f"    {what}:")
            print("      " + describe("lookup", lookup, lookup_cpu))
            print("      " + describe("purchase", purchase, purchase_cpu))
        print(f"  most client connections {most}; acknowledged operations {len(acked)}")
        print(
            f"  errors {len(errors)}; outage retries {sum(log.outage_retries for log in logs)}; "
            f"refused for too few points {sum(log.refusals for log in logs)}"
        )
        for error in sorted(set(errors))[:10]:
            print(f"    {error}")
        if down is not None:
            print("    " + recovery(down, logs))
        for line in reports:
            print(f"  {line}")
        problems = verify(data_dir, cluster.url, acked)
        print(f"  every acknowledged operation stored exactly once, db check clean: {'yes' if not problems else 'NO'}")
        for problem in problems[:10]:
            print(f"    {problem}")
        return not errors and not problems and all(" exit 0 " in line for line in reports)
    finally:
        cluster.remove()
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counters", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--restart-mid-run", action="store_true")
    parser.add_argument("--outage", type=float, default=5.0, help="seconds the server stays down in a restart")
    parser.add_argument(
        "--check-and-backup", action="store_true", help="run `db check` and `backup` from the command line mid-run"
    )
    parser.add_argument(
        "--server-dir",
        help="folder for the server's cluster (default: RAM, /dev/shm, where fsync costs nothing; a folder on disk "
        "makes every commit wait for the disk as a real server's does)",
    )
    parser.add_argument(
        "--per-process",
        type=int,
        default=COUNTERS_PER_PROCESS,
        help="counters simulated in one process, one thread each (default 1: a counter is a PC of its own)",
    )
    args = parser.parse_args()
    print(TARGETS)
    commands = []
    if args.check_and_backup:
        backups = Path(tempfile.mkdtemp(prefix="memberdesk-chain-backup-"))
        commands = [["db", "check"], ["backup", "--out", str(backups)]]
    per_process = args.per_process
    ok = [
        run(n, args.seconds, args.members, args.restart_mid_run, args.outage, commands, args.server_dir, per_process)
        for n in args.counters
    ]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
