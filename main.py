"""MemberDesk (会员台) entry point: the GUI, or a subcommand (DESIGN.md §6).

Imports are lazy so the counter window is ready fast and subcommands load only what they use."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path


def _add_common(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """The common options, accepted before or after the subcommand (a subcommand's copy never hides the top's)."""
    default = None if top else argparse.SUPPRESS
    parser.add_argument("--data-dir", type=Path, default=default, help="data folder (default: per-user folder)")
    parser.add_argument("--database", default=default, help="database URL, e.g. postgresql+psycopg://user@host/db")
    parser.add_argument("--lang", default=default, choices=["zh_CN", "en"], help="interface language")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="memberdesk", description="MemberDesk 会员台 — member management")
    _add_common(parser, top=True)
    sub = parser.add_subparsers(dest="command")

    demo = sub.add_parser("demo", help="fill the store with a realistic demo store")
    _add_common(demo)
    demo.add_argument("--members", type=int, default=3000)
    demo.add_argument("--days", type=int, default=730)
    demo.add_argument("--seed", type=int, default=20261123)
    demo.add_argument("--force", action="store_true", help="add the demo even if the store already has members")
    demo.add_argument("--if-empty", action="store_true", help="do nothing (exit 0) if the store has members")

    selftest = sub.add_parser("self-test", help="headless check: database, window, PDF")
    _add_common(selftest)

    dbp = sub.add_parser("db", help="database maintenance")
    _add_common(dbp)
    dbsub = dbp.add_subparsers(dest="db_command", required=True)
    for name, text in (
        ("upgrade", "migrate the database to this version"),
        ("check", "integrity and points-ledger invariants"),
    ):
        _add_common(dbsub.add_parser(name, help=text))
    return parser


def _data_dir(args: argparse.Namespace) -> Path:
    from app.paths import default_data_dir

    return args.data_dir or default_data_dir()


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


def cmd_db(args: argparse.Namespace) -> int:
    from app.context import Store
    from app.integrity import check_database

    store = Store.open(_data_dir(args), args.database, migrate=True)
    try:
        if args.db_command == "upgrade":
            print("database is at the current version")
            return 0
        problems = check_database(store.db)
        if problems:
            for problem in problems:
                print(f"problem: {problem}", file=sys.stderr)
            return 1
        print("db check: OK")
        return 0
    finally:
        store.close()


def cmd_demo(args: argparse.Namespace) -> int:
    from app.demo import DemoOptions, StoreNotEmpty, generate_demo

    from app.context import Store

    store = Store.open(_data_dir(args), args.database)
    try:
        options = DemoOptions(members=args.members, days=args.days, seed=args.seed, force=args.force)
        try:
            summary = generate_demo(store, options, progress=_console_progress)
        except StoreNotEmpty as exc:
            if args.if_empty:
                return 0
            return _fail(str(exc))
        print(summary)
        return 0
    finally:
        store.close()


def _console_progress(done: int, total: int, what: str) -> bool:
    print(f"\r{what}: {done}/{total}", end="\n" if done >= total else "", file=sys.stderr, flush=True)
    return True


def cmd_self_test(args: argparse.Namespace) -> int:
    from ui.selftest import run_self_test

    return run_self_test(_data_dir(args), args.database, args.lang)


def cmd_gui(args: argparse.Namespace) -> int:
    from ui.application import run_gui

    return run_gui(_data_dir(args), args.database, args.lang)


COMMANDS: dict[str | None, Callable[[argparse.Namespace], int]] = {
    None: cmd_gui,
    "demo": cmd_demo,
    "self-test": cmd_self_test,
    "db": cmd_db,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from app.errors import MemberDeskError
    from app.logs import setup_logging

    setup_logging(_data_dir(args) / "logs", console=args.command is not None)
    try:
        return COMMANDS[args.command](args)
    except MemberDeskError as exc:
        return _fail(f"error: {exc}")
    except KeyboardInterrupt:
        return _fail("interrupted; nothing half-written was kept")


if __name__ == "__main__":
    sys.exit(main())
