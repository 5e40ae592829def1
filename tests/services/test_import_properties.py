"""Property tests (hypothesis) for both importers: ≥ 10,000 generated rows each, clean and messy mixed (full-width
and other digit scripts, impossible dates, huge fields, NUL, overlong numbers, repeated receipts). Every row is
imported, already there or refused — never a crash, never a silent drop — and `db check` passes after every run.
A hundred 100-row examples on SQLite (hypothesis draws rows well up to about that size), twenty on PostgreSQL,
keep the suite's time sane; the counts are printed."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.context import Store
from app.importing import members as members_import
from app.importing import sales as sales_import
from app.importing.members import MemberImporter
from app.importing.report import ImportReport
from app.importing.sales import SalesImporter
from app.integrity import check_database
from db.models import Sale

ROWS_PER_RUN = 100
HUGE = "长" * 140_000
TRICKY = ["", " ", "²", "①", "٣٠", "9223372036854775808", "\x00\x00", "=1+1", "'=1+1", "X" * 60]
PHONES = ["13800138000", "１３８００１３８０００", "138００１３８０００", "+86 139-0000-0001", "13900000002", "12345"]
DATES = [
    "1985-03-04",
    "1985/3/4",
    "19850304",
    "2024/5/1 10:00",
    "2026-11-17T23:59:59+08:00",
    "0001-01-01T00:00:00",
    "9999-12-31T23:59:59-12:00",
    "2020-01-01xyz",
    "2020-01-01T10:00+25:00",
    "2099-01-01",
]


def cell(good: list[str], bad: Sequence[str] = ()) -> st.SearchStrategy[str]:
    """Mostly good values (nine in ten when there are bad ones), so both paths are walked."""
    return st.sampled_from(good * max(1, 9 * len(bad) // len(good)) + list(bad))


def with_noise(cells: dict[str, st.SearchStrategy[str]]) -> st.SearchStrategy[dict[str, str]]:
    """Rows of values drawn from the pools, and in one column of each row any text at all: few choices a row, so
    a hundred-row example stays within what hypothesis draws well."""
    noise = st.tuples(st.sampled_from([*sorted(cells), *[""] * len(cells)]), st.text(max_size=8))
    return st.tuples(st.fixed_dictionaries(cells), noise).map(
        lambda drawn: {**drawn[0], drawn[1][0]: drawn[1][1]} if drawn[1][0] else drawn[0]
    )


PHONE = st.one_of(st.integers(0, 10**8 - 1).map(lambda n: f"139{n:08d}"), cell(PHONES))
MEMBER_ROW = with_noise(
    {
        "member_no": st.one_of(
            st.integers(0, 10**6).map(lambda n: f"M{n}"),
            cell(["", "A1", "ａ３", "OLD-4"], ["X" * 60, "\x00", "A 1", "٣"]),
        ),
        "phone": PHONE,
        "name": cell(["张三", "单田芳", "Li Lei", "欧阳娜娜"], ["张" * 41, "\x00\x00", " "]),
        "gender": cell(["", "男", "女", "male"], ["x"]),
        "birthday": cell(["", "1985-03-04", "1985/3/4", "19850304"], DATES[5:]),
        "card_no": cell(["", "", "", "C0000001", "８８０００００００００１"], ["880000000018", "bad!"]),
        "points": cell(["", "0", "120", "1,200", "１２０"], ["-5", "1.5", *TRICKY]),
        "tier": cell(["", "银卡", "gold"], ["白金"]),
        "joined_at": cell(["", "2024/5/1 10:00", "2026-11-17T23:59:59+08:00"], DATES[5:]),
        "id_number": cell(["", "", "11010519491231002X"], ["110105194912310021"]),
        "tags": cell(["", "宝妈,老人"], ["甲" * 40 + "一," + "甲" * 40 + "二", ",".join("abcdefghijklmnopqrstuvwxyz")]),
        "notes": cell(["", "老顾客", "=1+1", "'=1+1"], [HUGE, "\x00"]),
    }
)
SALES_ROW = with_noise(
    {
        "member_no": cell(["A1", "A2", "CD00001", "CD00002", "ｃｄ00003", ""], ["X" * 60, "\x00"]),
        "phone": cell(["", "", "", *PHONES]),
        "time": cell(["2026-11-01 09:30", "2026/11/1 10:00", "2025-01-02"], DATES),
        "amount": cell(["0", "12.50", "１２.５０", "¥88"], ["١٢", "1000001", "abc", "88.123", *TRICKY]),
        "receipt_no": cell(["", "", "R1", "R2", "R3"], ["R" + "9" * 40, *TRICKY]),
        "branch": cell(["", "总店", "HQ"], ["火星店"]),
    }
)
SETTINGS = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)


def write_rows(path: Path, rows: list[dict[str, str]]) -> int:
    """The file, and how many of its rows are not blank (a blank line is no row)."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return sum(1 for row in rows if any(v.strip() for v in row.values()))


def runs(store: Store) -> settings:
    return settings(SETTINGS, max_examples=100 if store.db.is_sqlite else 20)


def import_and_check(
    store: Store, path: Path, rows: list[dict[str, str]], totals: Counter[str], run: Callable[[Path], ImportReport]
) -> None:
    """Every row imported, already there or refused (once), as many sales more as imported, `db check` OK."""
    fed = write_rows(path, rows)
    before = sale_count(store)
    report = run(path)
    lines = [r.line for r in report.refused]
    assert len(lines) == len(set(lines))
    assert report.imported + report.already_there + len(report.refused) == fed
    if path.stem == "sales":
        assert sale_count(store) == before + report.imported
    assert check_database(store.db) == []
    totals.update(rows=fed, imported=report.imported, already=report.already_there, refused=len(report.refused))


def test_member_import_accounts_for_every_generated_row(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(members_import, "BATCH", 97)
    totals: Counter[str] = Counter()
    importer = MemberImporter(store.db, store.operator("owner"), store.clock, store.cipher)

    @runs(store)
    @given(st.lists(MEMBER_ROW, min_size=ROWS_PER_RUN, max_size=ROWS_PER_RUN))
    def run(rows: list[dict[str, str]]) -> None:
        import_and_check(store, tmp_path / "members.csv", rows, totals, importer.run)

    run()
    print(f"members import: {dict(totals)}")
    assert totals["rows"] >= (10_000 if store.db.is_sqlite else 2_000)
    assert totals["imported"] > 0 and totals["refused"] > 0


def test_sales_import_accounts_for_every_generated_row(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sales_import, "BATCH", 89)
    totals: Counter[str] = Counter()
    importer = SalesImporter(store.db, store.operator("owner"), store.clock)

    @runs(store)
    @given(st.lists(SALES_ROW, min_size=ROWS_PER_RUN, max_size=ROWS_PER_RUN), st.booleans())
    def run(rows: list[dict[str, str]], create_missing: bool) -> None:
        import_and_check(
            store, tmp_path / "sales.csv", rows, totals, partial(importer.run, create_missing=create_missing)
        )

    run()
    print(f"sales import: {dict(totals)}")
    assert totals["rows"] >= (10_000 if store.db.is_sqlite else 2_000)
    assert totals["imported"] > 0 and totals["already"] > 0


def test_sales_import_earning_points_accounts_for_every_generated_row(store: Store, tmp_path: Path) -> None:
    """The same through the counter's own purchase (a transaction a row, so fewer rows)."""
    totals: Counter[str] = Counter()
    importer = partial(
        SalesImporter(store.db, store.operator("owner"), store.clock).run, create_missing=True, earn_points=True
    )

    @settings(SETTINGS, max_examples=20)
    @given(st.lists(SALES_ROW, min_size=50, max_size=50))
    def run(rows: list[dict[str, str]]) -> None:
        import_and_check(store, tmp_path / "sales.csv", rows, totals, importer)

    run()
    print(f"sales import earning points: {dict(totals)}")
    assert totals["rows"] >= 1_000 and totals["imported"] > 0


def sale_count(store: Store) -> int:
    with store.db.session() as session:
        return session.scalar(select(func.count()).select_from(Sale)) or 0
