"""Moving members and purchase logs in and out: CSV (UTF-8, GB18030), XLSX, Chinese or English headers."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from multiprocessing import get_all_start_methods
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.context import Store
from app.errors import PermissionDenied, ValidationError
from app.importing import members as members_import
from app.importing.export import export_members
from app.importing.members import MemberImporter
from app.importing.report import ImportCancelled, ImportReport
from app.importing.sales import SalesImporter
from app.integrity import check_database
from db.bulk import PENDING_INDEXES_KEY, drop_indexes
from db.enums import LedgerSource
from db.models import Member, PointsLedger, Sale, Setting
from tests.db_support import index_names

CDNOW = Path(__file__).resolve().parent.parent / "data" / "cdnow" / "cdnow_sample_first_300_customers.csv"

ROWS_ZH = [
    ["会员编号", "手机号", "姓名", "性别", "生日", "卡号", "积分", "等级", "入会时间", "身份证号", "标签", "备注"],
    ["OLD001", "13811112222", "张三", "男", "1985-03-04", "", "120", "银卡", "2020-01-02", "", "宝妈,老人", "老顾客"],
    ["OLD002", "13811113333", "单小明", "女", "19900101", "C0000001", "0", "", "2021-05-06 10:00:00", "", "", ""],
    ["OLD003", "12311113333", "坏号码", "女", "", "", "", "", "", "", "", ""],
    ["OLD004", "13811114444", "李四", "x", "", "", "", "", "", "", "", ""],
    ["OLD005", "13811112222", "王五", "", "", "", "", "", "", "", "", ""],
    ["", "13811115555", "赵六", "", "", "", "50", "", "", "", "", ""],
    ["OLD007", "13811116666", "钱七", "", "2099-01-01", "", "", "", "", "", "", ""],
    ["OLD008", "13811117777", "孙八", "", "", "", "-5", "", "", "", "", ""],
    ["OLD009", "13811118888", "周九", "", "", "", "", "白金", "", "", "", ""],
]
REFUSED_LINES = [4, 5, 6, 8, 9, 10]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[str]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def importer(store: Store, who: str = "owner") -> MemberImporter:
    return MemberImporter(store.db, store.operator(who), store.clock, store.cipher)


def member_count(store: Store) -> int:
    with store.db.session() as session:
        return session.scalar(select(func.count()).select_from(Member)) or 0


@pytest.mark.parametrize("kind", ["utf8", "gb18030", "xlsx"])
def test_member_import_reports_refused_rows_by_line(store: Store, tmp_path: Path, kind: str) -> None:
    if kind == "xlsx":
        path = write_xlsx(tmp_path / "m.xlsx", ROWS_ZH)
    else:
        path = write_csv(tmp_path / "m.csv", ROWS_ZH, "utf-8-sig" if kind == "utf8" else "gb18030")
    assert_rows_zh_imported(store, importer(store).run(path))
    again = importer(store).run(path)
    assert (again.imported, again.already_there) == (0, 3)
    assert member_count(store) == 3
    services = store.services(store.operator("owner"))
    zhang = services.members.lookup("13811112222").hits[0]
    assert (zhang.member_no, zhang.points, zhang.tier_name) == ("OLD001", 120, "银卡会员")
    assert services.members.profile(zhang.id).tags == ["宝妈", "老人"]
    assert [h.name for h in services.members.lookup("sxm").hits] == ["单小明"]
    assert services.members.lookup("MD00000003").hits[0].name == "赵六"
    with store.db.session() as session:
        sources = session.scalars(select(PointsLedger.source)).all()
    assert sources == [LedgerSource.IMPORT, LedgerSource.IMPORT]
    assert check_database(store.db) == []


def assert_rows_zh_imported(store: Store, report: ImportReport) -> None:
    assert report.imported == 3
    assert [r.line for r in report.refused] == REFUSED_LINES
    assert "12311113333" in report.refused[0].reason
    assert member_count(store) == 3


@pytest.fixture(
    params=[
        False,
        pytest.param(
            True, marks=pytest.mark.skipif("fork" not in get_all_start_methods(), reason="the worker needs fork")
        ),
    ],
    ids=["here", "worker"],
)
def big_file_paths(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A small file takes the paths a million-row file takes: indexes dropped, validation here or in a worker."""
    monkeypatch.setattr(members_import, "BATCH", 4)
    monkeypatch.setattr(members_import, "BULK_ROWS", 1)
    monkeypatch.setattr(members_import, "WORKER_ROWS", 1)
    monkeypatch.setattr(members_import, "fork_helps", lambda: request.param)


@pytest.mark.usefixtures("big_file_paths")
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_big_file_is_loaded_with_lookup_indexes_down_and_rebuilt(store: Store, tmp_path: Path, kind: str) -> None:
    before = index_names(store.db)
    ticks: list[tuple[int, int, str]] = []
    path = write_csv(tmp_path / "m.csv", ROWS_ZH) if kind == "csv" else write_xlsx(tmp_path / "m.xlsx", ROWS_ZH)
    report = importer(store).run(path, progress=lambda *tick: ticks.append(tick) is None)
    assert_rows_zh_imported(store, report)
    assert [(done, total) for done, total, _what in ticks] == [(4, 9), (8, 9), (9, 9), (0, 1), (1, 1)]
    assert index_names(store.db) == before
    assert store.db.read(lambda s: s.get(Setting, PENDING_INDEXES_KEY)) is None
    hits = store.services(store.operator("owner")).members.lookup("zs").hits
    assert [h.name for h in hits] == ["张三"]
    assert check_database(store.db) == []


@pytest.mark.usefixtures("big_file_paths")
def test_a_cancelled_big_import_keeps_whole_batches_and_rebuilds_indexes(store: Store, tmp_path: Path) -> None:
    before = index_names(store.db)
    with pytest.raises(ImportCancelled):
        importer(store).run(write_csv(tmp_path / "m.csv", ROWS_ZH), progress=lambda done, _t, _w: done < 4)
    assert member_count(store) == 2  # the first batch (lines 2-5): OLD001 and OLD002
    assert index_names(store.db) == before
    assert check_database(store.db) == []


def test_an_import_killed_with_its_indexes_down_is_reported_and_mended(store: Store, tmp_path: Path) -> None:
    before = index_names(store.db)
    dropped = store.db.write(
        lambda s: drop_indexes(s.connection(), members_import.BULK_TABLES, unique_too=False)
    )  # ... and then the process died
    assert dropped > 10 and "ix_members_pinyin_initials" not in index_names(store.db)
    assert "uq_members_active_phone" in index_names(store.db)  # the duplicate checks need the unique ones
    assert any("index" in str(problem) for problem in check_database(store.db))
    importer(store).run(write_csv(tmp_path / "m.csv", ROWS_ZH[:3]))
    assert index_names(store.db) == before
    assert check_database(store.db) == []


def test_all_or_nothing_imports_nothing_when_a_row_is_bad(store: Store, tmp_path: Path) -> None:
    report = importer(store).run(write_csv(tmp_path / "m.csv", ROWS_ZH), all_or_nothing=True)
    assert report.rolled_back and report.imported == 0 and len(report.refused) == len(REFUSED_LINES)
    assert member_count(store) == 0
    good = [ROWS_ZH[0], ROWS_ZH[1], ROWS_ZH[2]]
    assert importer(store).run(write_csv(tmp_path / "g.csv", good), all_or_nothing=True).imported == 2


def test_english_headers_and_export_round_trip(store: Store, tmp_path: Path) -> None:
    header = [
        "member_no",
        "phone",
        "name",
        "gender",
        "birthday",
        "card_no",
        "points",
        "tier",
        "joined_at",
        "id_number",
        "tags",
        "notes",
    ]
    rows = [header, ["A1", "13900000001", "Li Lei", "male", "1990-02-03", "", "7", "gold", "", "", "vip", "x"]]
    importer(store).run(write_csv(tmp_path / "m.csv", [*rows, *[r[1:] for r in ROWS_ZH[1:3]]]))
    for suffix in ("csv", "xlsx"):
        out = tmp_path / f"out.{suffix}"
        assert export_members(store.db, store.operator("owner"), store.cipher, out) == member_count(store)
    other = Store.open(tmp_path / "other")
    try:
        report = MemberImporter(other.db, other.operator("owner"), other.clock, other.cipher).run(tmp_path / "out.xlsx")
        assert report.refused == [] and report.imported == member_count(store)
        hit = other.services(other.operator("owner")).members.lookup("13900000001").hits[0]
        assert (hit.name, hit.points, hit.tier_name_en) == ("Li Lei", 7, "Gold")
    finally:
        other.close()


def test_cashier_may_not_import_or_export(store: Store, tmp_path: Path) -> None:
    with pytest.raises(PermissionDenied):
        importer(store, "cashier").run(write_csv(tmp_path / "m.csv", ROWS_ZH))
    with pytest.raises(PermissionDenied):
        export_members(store.db, store.operator("cashier"), store.cipher, tmp_path / "x.csv")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("m.csv", b""),
        ("m.csv", b"foo,bar\n1,2\n"),
        ("m.xlsx", b"not a zip"),
        ("m.pdf", b"%PDF"),
        ("m.txt", b"\xff\xfe\x00\xd8a\x00"),  # UTF-16 with a lone surrogate
    ],
)
def test_unreadable_files_are_refused_clearly(store: Store, tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValidationError):
        importer(store).run(path)
    assert member_count(store) == 0


def test_cdnow_purchase_log_import(store: Store, tmp_path: Path) -> None:
    sales = SalesImporter(store.db, store.operator("owner"), store.clock)
    refused = sales.run(CDNOW)
    assert refused.imported == 0 and len(refused.refused) == 924
    assert "CD00004" in refused.refused[0].reason

    report = sales.run(CDNOW, create_missing=True)
    assert (report.imported, report.refused) == (924, [])
    with CDNOW.open() as fh:
        expected_fen = sum(int(Decimal(r["amount"]) * 100) for r in csv.DictReader(fh))
    with store.db.session() as session:
        assert session.scalar(select(func.sum(Sale.total_fen))) == expected_fen
        assert session.scalar(select(func.count()).select_from(Member)) == 300
        assert session.scalar(select(func.sum(Sale.points_earned))) == 0
        assert session.scalar(select(func.sum(Member.lifetime_spend_fen))) == expected_fen
        first = session.scalar(select(Member).where(Member.member_no == "CD00004"))
        assert first is not None and first.visit_count == 4
        assert first.first_visit_at == dt.datetime(1996, 12, 31, 16, 0, tzinfo=dt.UTC)  # 1997-01-01 in Shanghai
    again = sales.run(CDNOW, create_missing=True)
    assert (again.imported, again.already_there) == (0, 924)
    assert check_database(store.db) == []


def test_sales_import_earning_points_and_receipts(store: Store, tmp_path: Path) -> None:
    importer(store).run(write_csv(tmp_path / "m.csv", ROWS_ZH[:3]))
    log = write_csv(
        tmp_path / "s.csv",
        [
            ["手机号", "消费时间", "金额", "小票号", "门店"],
            ["13811112222", "2026-11-01 09:30", "88.50", "A-1", "总店"],
            ["13811112222", "2026-11-02", "12", "A-2", "HQ"],
            ["13811113333", "2026-11-02", "abc", "", ""],
            ["13811113333", "2026-11-02", "10", "", "火星店"],
            ["13999999999", "2026-11-02", "10", "", ""],
        ],
    )
    sales = SalesImporter(store.db, store.operator("owner"), store.clock)
    report = sales.run(log, earn_points=True)
    assert report.imported == 2 and [r.line for r in report.refused] == [4, 5, 6]
    services = store.services(store.operator("owner"))
    zhang = services.members.lookup("13811112222").hits[0]
    assert zhang.points == 120 + 97 + 13  # 银卡 earns 110 %: ¥88.50 → 97, ¥12 → 13
    assert sales.run(log, earn_points=True).already_there == 2
    assert check_database(store.db) == []


CDNOW_SALES = CDNOW.with_name("cdnow_sample_sales.csv")


def test_the_whole_cdnow_sample_with_receipt_numbers(store: Store) -> None:
    """6,919 purchases with receipt numbers: the duplicate check once failed beyond ~1,000 receipts."""
    sales = SalesImporter(store.db, store.operator("owner"), store.clock)
    report = sales.run(CDNOW_SALES, create_missing=True)
    assert (report.imported, report.already_there, report.refused) == (6919, 0, [])
    with CDNOW_SALES.open() as fh:
        expected_fen = sum(int(Decimal(r["amount"]) * 100) for r in csv.DictReader(fh))
    with store.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Member)) == 2357
        assert session.scalar(select(func.sum(Sale.total_fen))) == expected_fen == 24_409_194
    again = sales.run(CDNOW_SALES, create_missing=True)
    assert (again.imported, again.already_there, again.refused) == (0, 6919, [])
    assert check_database(store.db) == []
