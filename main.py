"""MemberDesk (会员台) entry point: the GUI, or a subcommand (docs/ARCHITECTURE.md §6).

Imports are lazy so the counter window is ready fast and subcommands load only what they use."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.context import Store
    from app.importing.members import ImportReport
    from app.security.operator import Operator


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

    members = sub.add_parser("members", help="move members in and out (CSV or XLSX)")
    _add_common(members)
    msub = members.add_subparsers(dest="members_command", required=True)
    mimport = msub.add_parser("import", help="import members; refused rows are listed by line")
    _add_common(mimport)
    mimport.add_argument("file", type=Path)
    mimport.add_argument("--all-or-nothing", action="store_true", help="import nothing if any row is refused")
    mexport = msub.add_parser("export", help="export every member")
    _add_common(mexport)
    mexport.add_argument("file", type=Path)

    sales = sub.add_parser("sales", help="purchase logs")
    _add_common(sales)
    ssub = sales.add_subparsers(dest="sales_command", required=True)
    simport = ssub.add_parser("import", help="import purchase logs")
    _add_common(simport)
    simport.add_argument("file", type=Path)
    simport.add_argument("--create-missing", action="store_true", help="create members the file names but we lack")
    simport.add_argument("--earn-points", action="store_true", help="earn points on imported sales by today's rules")

    backup = sub.add_parser("backup", help="a verified copy of the store (pg_dump on PostgreSQL)")
    _add_common(backup)
    backup.add_argument("--out", type=Path, help="file or folder to write (default: the backups folder)")
    restore = sub.add_parser("restore", help="replace the store with a backup (the current state is backed up first)")
    _add_common(restore)
    restore.add_argument("file", type=Path)
    complaints = sub.add_parser("complaints", help="complaints")
    _add_common(complaints)
    csub = complaints.add_subparsers(dest="complaints_command", required=True)
    cexport = csub.add_parser("export", help="export complaints (CSV or XLSX)")
    _add_common(cexport)
    cexport.add_argument("file", type=Path)
    cexport.add_argument("--from", dest="date_from", help="first day (YYYY-MM-DD, store time)")
    cexport.add_argument("--to", dest="date_to", help="last day (YYYY-MM-DD, store time)")

    surveys = sub.add_parser("surveys", help="satisfaction surveys")
    _add_common(surveys)
    vsub = surveys.add_subparsers(dest="surveys_command", required=True)
    vprint = vsub.add_parser("print", help="number N forms of a survey and write them to a PDF")
    _add_common(vprint)
    vprint.add_argument("template", help="template code, e.g. SAT")
    vprint.add_argument("--count", type=int, required=True)
    vprint.add_argument("--out", type=Path, required=True)
    vprint.add_argument("--member", help="print the forms for this member (member or card number)")
    vresults = vsub.add_parser("results", help="CSAT, NPS, distributions and trend of a survey")
    _add_common(vresults)
    vresults.add_argument("template", help="template code, e.g. SAT")
    vresults.add_argument("--out", type=Path, help="also write the figures to this CSV or XLSX file")

    keyp = sub.add_parser("key", help="the key that encrypts ID numbers: copy it to another counter of a chain")
    _add_common(keyp)
    ksub = keyp.add_subparsers(dest="key_command", required=True)
    kexport = ksub.add_parser("export", help="write the key, sealed with a passphrase, to FILE")
    _add_common(kexport)
    kexport.add_argument("file", type=Path)
    kimport = ksub.add_parser("import", help="take in a key exported on another counter")
    _add_common(kimport)
    kimport.add_argument("file", type=Path)

    coupons = sub.add_parser("coupons", help="print or export a campaign's coupons")
    _add_common(coupons)
    csub = coupons.add_subparsers(dest="coupons_command", required=True)
    cprint = csub.add_parser("print", help="the campaign's valid coupons to a PDF (marks them printed)")
    _add_common(cprint)
    cprint.add_argument("campaign", help="campaign code or name")
    cprint.add_argument("--out", type=Path, required=True, help="the PDF to write")
    cprint.add_argument("--layout", choices=["a4", "80mm", "58mm"], default="a4")
    cprint.add_argument("--only-unprinted", action="store_true", help="leave out coupons printed before")
    cexport = csub.add_parser("export", help="the campaign's coupons to CSV or XLSX")
    _add_common(cexport)
    cexport.add_argument("campaign", help="campaign code or name")
    cexport.add_argument("file", type=Path)
    privacy = sub.add_parser("privacy", help="members' rights (PIPL): consent, their data, deletion, the review")
    _add_common(privacy)
    psub = privacy.add_subparsers(dest="privacy_command", required=True)
    pexport = _signed(psub.add_parser("export", help="everything held on a member, as readable JSON (manager)"))
    pexport.add_argument("member", help=MEMBER_HELP)
    pexport.add_argument("--out", type=Path, required=True, help="the file, or a folder for member-NUMBER.json")
    pconsent = _signed(psub.add_parser("withdraw-consent", help="withdraw a member's marketing consent (any staff)"))
    pconsent.add_argument("member", help=MEMBER_HELP)
    pdelete = _signed(psub.add_parser("anonymise", help="delete a member's personal data for good (owner)"))
    pdelete.add_argument("member", help=MEMBER_HELP)
    pdelete.add_argument("--reason", default="at the member's request", help="goes into the audit log")
    pdelete.add_argument("--yes", action="store_true", help="confirm: it cannot be undone")
    pinactive = _signed(psub.add_parser("inactive", help="members gone longer than the review time (manager)"))
    pinactive.add_argument("--days", type=int, help="no visit in this many days (default: the review setting)")
    pinactive.add_argument("--out", type=Path, help="write them all to FILE.csv or .xlsx (phones masked)")
    pnotice = _signed(psub.add_parser("notice", help="the privacy notice in Chinese, an A4 PDF to print and sign"))
    pnotice.add_argument("--out", type=Path, required=True, help="the PDF to write")

    audit = sub.add_parser("audit", help="the audit log (owner)")
    _add_common(audit)
    asub = audit.add_subparsers(dest="audit_command", required=True)
    alist = _signed(asub.add_parser("list", help="entries, newest first; --out writes every one that matches"))
    alist.add_argument("--from", dest="date_from", type=_date, help="first day (YYYY-MM-DD, store time)")
    alist.add_argument("--to", dest="date_to", type=_date, help="last day (YYYY-MM-DD, store time)")
    alist.add_argument("--actor", help="staff username or name")
    alist.add_argument("--action", help="e.g. purchase, anonymise, export, sign_in_failed")
    alist.add_argument("--entity", help="e.g. member, sale, coupon, staff, settings")
    alist.add_argument("--branch", help="branch name or number")
    alist.add_argument("--limit", type=int, default=50, help="entries printed (default 50)")
    alist.add_argument("--out", type=Path, help="write them to FILE.csv or .xlsx instead (audited)")
    _signed(asub.add_parser("verify", help="check every chain and its ties; print each chain's head to keep"))

    segments = sub.add_parser("segments", help="per-member pyramid, RFM, lifecycle, churn warning and value")
    _add_common(segments)
    segments.add_argument("--as-of", type=_date, default=None, help="as of the end of this day (default yesterday)")
    segments.add_argument("--horizon-days", type=int, default=None, help="days ahead for expected purchases/value")
    segments.add_argument("--out", type=Path, default=None, help="write one row per member to FILE.csv or .xlsx")
    segments.add_argument("--recount", action="store_true", help="count the monthly totals again from every sale")

    report = sub.add_parser("report", help="the day's summary")
    _add_common(report)
    rsub = report.add_subparsers(dest="report_command", required=True)
    rday = rsub.add_parser("day", help="the day's summary as an A4 PDF (figures, sales chart, work lists, staff)")
    _add_common(rday)
    rday.add_argument("--date", type=_date, default=None, help="the day, in the store's time zone (default yesterday)")
    rday.add_argument("--out", type=Path, default=None, help="the PDF to write (default day-report-DATE.pdf)")
    _add_common(rsub.add_parser("recount", help="count the per-day sales totals again from every sale"))

    dbp = sub.add_parser("db", help="database maintenance")
    _add_common(dbp)
    dbsub = dbp.add_subparsers(dest="db_command", required=True)
    for name, text in (
        ("upgrade", "migrate the database to this version"),
        ("check", "integrity and points-ledger invariants"),
    ):
        _add_common(dbsub.add_parser(name, help=text))
    return parser


MEMBER_HELP = "member number, card number or phone"
PIN_ENV = "MEMBERDESK_PIN"


def _signed(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """A subcommand that may run as a given staff account (its PIN checked), so the services' role rules apply."""
    _add_common(parser)
    parser.add_argument(
        "--as", dest="as_user", metavar="USERNAME", help=f"run as this staff account (PIN asked, or ${PIN_ENV})"
    )
    return parser


def _data_dir(args: argparse.Namespace) -> Path:
    from app.paths import default_data_dir

    return args.data_dir or default_data_dir()


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value}") from None


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


def cmd_db(args: argparse.Namespace) -> int:
    from app.context import Store
    from app.integrity import check_store, rebuild_indexes

    store = Store.open(_data_dir(args), args.database, migrate=True)
    try:
        if args.db_command == "upgrade":
            rebuilt = rebuild_indexes(store.db)
            if rebuilt:
                print(f"{rebuilt} lookup indexes left down by a stopped import or demo were built again")
            print("database is at the current version")
            return 0
        checked = check_store(store.db)
        problems = checked.problems
        for head in checked.heads:
            print(
                f"audit chain head, branch {head.branch_name}: {head} (keep it: it proves later that nothing before "
                "it changed)"
            )
        if problems:
            for problem in problems:
                print(f"problem: {problem}", file=sys.stderr)
            return 1
        print("db check: OK")
        return 0
    finally:
        store.close()


def cmd_backup(args: argparse.Namespace) -> int:
    from app.context import Store

    store = Store.open(_data_dir(args), args.database)
    try:
        made = store.services(store.operator("owner")).backups.backup(args.out)
        print(f"backup written and verified: {made.path} ({made.size:,} bytes, {made.members} members)")
        return 0
    finally:
        store.close()


def cmd_restore(args: argparse.Namespace) -> int:
    from app.context import Store

    store = Store.open(_data_dir(args), args.database)
    try:
        done = store.services(store.operator("owner")).backups.restore(args.file)
        print(f"restored {done.restored.path} ({done.restored.members} members); the state before: {done.safety_copy}")
        return 0
    finally:
        store.close()


def cmd_demo(args: argparse.Namespace) -> int:
    from app.context import Store
    from app.demo import DemoOptions, StoreNotEmpty, generate_demo

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


PASSPHRASE_ENV = "MEMBERDESK_KEY_PASSPHRASE"


def _passphrase(confirm: bool) -> str:
    """From the environment (scripts), else asked twice on the console for an export, once for an import."""
    import getpass
    import os

    given = os.environ.get(PASSPHRASE_ENV)
    if given:
        return given
    first = getpass.getpass("passphrase: ")
    if confirm and getpass.getpass("passphrase again: ") != first:
        raise SystemExit(_fail("error: the two passphrases differ"))
    return first


def cmd_key(args: argparse.Namespace) -> int:
    from app.keyfile import export_key, import_key, seal_for
    from app.paths import DataPaths

    paths = DataPaths(_data_dir(args)).ensure()
    seal = seal_for(paths.root)
    if args.key_command == "export":
        export_key(paths.key_file, args.file, _passphrase(confirm=True), seal)
        print(f"key exported to {args.file}: keep it with the backups, apart from the passphrase")
        return 0
    import_key(args.file, paths.key_file, _passphrase(confirm=False), seal)
    print(f"key imported into {paths.key_file}")
    return 0


def _report_import(run: Callable[[], ImportReport]) -> int:
    """Refused rows by line on stderr, the summary on stdout. An import stopped part-way lists the rows refused
    before it and says exactly what was committed; no SQL ever reaches the console (details go to the log)."""
    from app.importing.report import ImportStopped

    try:
        report = run()
        stopped = None
    except ImportStopped as exc:
        report, stopped = exc.report, exc
    print(file=sys.stderr)
    for refused in sorted(report.refused, key=lambda r: r.line):
        print(f"line {refused.line}: {refused.reason}", file=sys.stderr)
    if stopped is not None:
        return _fail(f"error: {stopped}")
    print(report.summary())
    return 1 if report.refused else 0


def cmd_members(args: argparse.Namespace) -> int:
    from app.context import Store
    from app.importing.export import export_members
    from app.importing.members import MemberImporter

    store = Store.open(_data_dir(args), args.database)
    try:
        operator = store.operator("owner")
        if args.members_command == "export":
            count = export_members(store.db, operator, store.cipher, args.file)
            print(f"{count} members exported to {args.file}")
            return 0
        importer = MemberImporter(store.db, operator, store.clock, store.cipher)
        return _report_import(
            lambda: importer.run(args.file, all_or_nothing=args.all_or_nothing, progress=_console_progress)
        )
    finally:
        store.close()


def cmd_sales(args: argparse.Namespace) -> int:
    from app.context import Store
    from app.importing.sales import SalesImporter

    store = Store.open(_data_dir(args), args.database)
    try:
        importer = SalesImporter(store.db, store.operator("owner"), store.clock)
        return _report_import(
            lambda: importer.run(
                args.file, create_missing=args.create_missing, earn_points=args.earn_points, progress=_console_progress
            )
        )
    finally:
        store.close()


def cmd_complaints(args: argparse.Namespace) -> int:
    from app.care.cli import export_complaints
    from app.context import Store

    store = Store.open(_data_dir(args), args.database)
    try:
        services = store.services(store.operator("owner"))
        count = export_complaints(services, args.file, args.date_from, args.date_to)
        print(f"{count} complaints exported to {args.file}")
        return 0
    finally:
        store.close()


def cmd_surveys(args: argparse.Namespace) -> int:
    from app.care.cli import print_survey_forms, survey_results
    from app.context import Store

    store = Store.open(_data_dir(args), args.database)
    try:
        services = store.services(store.operator("owner"))
        if args.surveys_command == "print":
            batch = print_survey_forms(services, args.template, args.count, args.out, args.member)
            print(f"{len(batch.forms)} forms {batch.forms[0].form_no}–{batch.forms[-1].form_no} written to {args.out}")
            return 0
        for line in survey_results(services, args.template, args.out, english=args.lang != "zh_CN"):
            print(line)
        return 0
    finally:
        store.close()


def cmd_coupons(args: argparse.Namespace) -> int:
    import uuid

    from app.context import Store

    store = Store.open(_data_dir(args), args.database)
    try:
        coupons = store.services(store.operator("owner")).coupons
        campaign = coupons.find_campaign(args.campaign)
        if args.coupons_command == "export":
            count = coupons.export(campaign, args.file)
            print(f"{count} coupons exported to {args.file}")
            return 0
        from app.printing.coupon import write_print_job

        if not args.lang:  # coupons are for the store's customers: printed in Chinese unless --lang en asks otherwise
            from ui.i18n import use_language_without_gui

            use_language_without_gui("zh_CN")
        job = coupons.print_job(campaign, only_unprinted=args.only_unprinted)
        partial = args.out.with_name(args.out.name + ".part")
        try:
            pages = write_print_job(job, partial, args.layout)
            partial.replace(args.out)
        finally:
            partial.unlink(missing_ok=True)
        coupons.mark_printed([c.id for c in job.coupons], str(uuid.uuid4()))
        print(f"{len(job.coupons)} coupons on {pages} pages written to {args.out}")
        return 0
    finally:
        store.close()


def _signed_in(store: Store, args: argparse.Namespace) -> Operator:
    """`--as USERNAME`: that account, signed in with its PIN (wrong PINs count towards its lockout, and the sign-in
    is audited); without it the command runs as the owner account, as every other command does."""
    if not args.as_user:
        return store.operator("owner")
    import getpass
    import os

    pin = os.environ.get(PIN_ENV) or getpass.getpass(f"PIN for {args.as_user}: ")
    return store.sign_in(args.as_user, pin)


def cmd_privacy(args: argparse.Namespace) -> int:
    from app.context import Store
    from app.trust import cli

    store = Store.open(_data_dir(args), args.database)
    try:
        services = store.services(_signed_in(store, args))
        command = args.privacy_command
        if command == "inactive":
            for line in cli.inactive(services, args.days, args.out):
                print(line)
            return 0
        if command == "notice":
            print(cli.notice(services, args.out))
        elif command == "export":
            print(cli.member_data(services, args.member, args.out))
        elif command == "withdraw-consent":
            print(cli.withdraw_consent(services, args.member))
        else:
            print(cli.anonymise(services, args.member, args.reason, args.yes))
        return 0
    finally:
        store.close()


def cmd_audit(args: argparse.Namespace) -> int:
    from app.context import Store
    from app.trust import cli

    store = Store.open(_data_dir(args), args.database)
    try:
        services = store.services(_signed_in(store, args))
        if args.audit_command == "verify":
            problems, heads = cli.audit_verify(services)
            for line in heads:
                print(line)
            for problem in problems:
                print(f"problem: {problem}", file=sys.stderr)
            if problems:
                return 1
            print("audit log: OK")
            return 0
        wanted = cli.audit_filter(
            services, args.date_from, args.date_to, args.actor, args.action, args.entity, args.branch
        )
        for line in cli.audit_list(services, wanted, args.limit, args.out):
            print(line)
        return 0
    finally:
        store.close()


def cmd_segments(args: argparse.Namespace) -> int:
    from app.context import Store
    from app.errors import ValidationError
    from app.insights.export import summary, write_segments
    from app.trust.audit import record_export

    if args.horizon_days is not None and not 1 <= args.horizon_days <= 3650:
        raise ValidationError("--horizon-days must be between 1 and 3650")
    if args.out is not None and args.out.suffix.lower() not in (".csv", ".xlsx"):
        raise ValidationError("--out must name a .csv or .xlsx file")
    store = Store.open(_data_dir(args), args.database)
    try:
        owner = store.operator("owner")
        service = store.services(owner).segments
        report = service.refresh(
            args.as_of,
            args.horizon_days,
            progress=_console_progress,
            recount=args.recount,
            with_numbers=args.out is not None,
            per_member=args.out is not None,
        )
        for line in summary(report):
            print(line)
        if args.out is not None:
            count = write_segments(report, args.out)
            record_export(store.db, owner, "segments", args.out, count)
            print(f"{count} members written to {args.out}")
        return 0
    finally:
        store.close()


def cmd_report(args: argparse.Namespace) -> int:
    from app.context import Store

    store = Store.open(_data_dir(args), args.database)
    try:
        service = store.services(store.operator("owner")).close_of_day
        if args.report_command == "recount":
            service.recount()
            print("day totals counted again from the sales")
            return 0
        from app.dashboard.day_report import write_day_report

        day = args.date or service.today() - dt.timedelta(days=1)
        out = args.out or Path(f"day-report-{day.isoformat()}.pdf")
        summary = service.close_of_day(day)
        partial = out.with_name(out.name + ".part")
        try:
            write_day_report(summary, partial, service.store_now())
            partial.replace(out)
        finally:
            partial.unlink(missing_ok=True)
        print(f"day summary of {day.isoformat()} written to {out}")
        return 0
    finally:
        store.close()


def _console_progress(done: int, total: int, what: str) -> bool:
    """Progress on stderr; a total of 0 means not known in advance (files are read as a stream)."""
    if total <= 0:
        print(f"\r{what}: {done}", end="", file=sys.stderr, flush=True)
    else:
        print(f"\r{what}: {done}/{total}", end="\n" if done >= total else "", file=sys.stderr, flush=True)
    return True


def cmd_self_test(args: argparse.Namespace) -> int:
    from ui.selftest_run import run_self_test

    return run_self_test(_data_dir(args), args.database, args.lang)


def cmd_gui(args: argparse.Namespace) -> int:
    from ui.application import run_gui

    return run_gui(_data_dir(args), args.database, args.lang)


COMMANDS: dict[str | None, Callable[[argparse.Namespace], int]] = {
    None: cmd_gui,
    "demo": cmd_demo,
    "self-test": cmd_self_test,
    "db": cmd_db,
    "key": cmd_key,
    "backup": cmd_backup,
    "restore": cmd_restore,
    "members": cmd_members,
    "sales": cmd_sales,
    "complaints": cmd_complaints,
    "surveys": cmd_surveys,
    "coupons": cmd_coupons,
    "privacy": cmd_privacy,
    "audit": cmd_audit,
    "segments": cmd_segments,
    "report": cmd_report,
}


UNEXPECTED = (
    "unexpected error: {error}\n"
    "Every change is saved whole or not at all: what was finished before the error is kept, the change it "
    "stopped is not. Details: {log}"
)
INTERRUPTED = "interrupted: what was finished before is kept, the change under way is not"


def main(argv: list[str] | None = None) -> int:
    from app.console import make_console_safe

    make_console_safe()
    args = build_parser().parse_args(argv)
    from app.errors import MemberDeskError

    if args.command is not None and args.lang:
        from ui.i18n import use_language_without_gui

        use_language_without_gui(args.lang)
    log_path: Path | str = "(no log)"
    try:
        # Inside the error handling: a data folder that cannot be written is a message, not a traceback.
        log_path = _start_logging(args)
        return COMMANDS[args.command](args)
    except MemberDeskError as exc:
        return _refuse(args, f"error: {exc}")
    except OSError as exc:
        return _refuse(args, f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
    except KeyboardInterrupt:
        return _fail(INTERRUPTED)
    except Exception as exc:
        logging.getLogger("memberdesk").exception("unexpected error in %s", args.command)
        return _fail(UNEXPECTED.format(error=f"{type(exc).__name__}: {exc}", log=log_path))


def _refuse(args: argparse.Namespace, message: str) -> int:
    """A refusal before the GUI could start is shown in a box too: the windowed program has no console."""
    if args.command is None:
        from ui.application import show_start_failure

        show_start_failure(message.removeprefix("error: "))
    return _fail(message)


def _start_logging(args: argparse.Namespace) -> Path:
    from app.logs import CLI_LOG, GUI_LOG, setup_logging
    from app.paths import probe_writable

    logs = _data_dir(args) / "logs"
    probe_writable(logs)
    if args.command is None:
        return setup_logging(logs, GUI_LOG)
    return setup_logging(logs, CLI_LOG, console=True)


if __name__ == "__main__":
    import multiprocessing

    multiprocessing.freeze_support()  # a bundled Windows program started as a spawned child runs the child only
    sys.exit(main())
