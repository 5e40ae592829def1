"""`coupons print` and `coupons export` as a manager types them (`main.main(argv)` on the store's folder and
database, SQLite and PostgreSQL): each layout's PDF decodes to exactly the campaign's codes, printing is counted
(reprints too), `--only-unprinted` leaves out what was printed, exports are audited, and an unknown campaign or a
wrong file type is one clear line that writes nothing."""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from app.context import Services, Store
from app.coupons.campaigns import CampaignDraft
from db.enums import CampaignTarget, CouponKind
from db.models import AuditLog
from tests.cli_support import Run
from tests.printing import readback
from tests.printing.test_coupon import DPI, sheet_cells
from tests.services.conftest import START

CODE, NAME = "VIP-MJ20", "会员满100减20"


@pytest.fixture
def campaign(boss: Services) -> tuple[int, list[str]]:
    draft = CampaignDraft(
        CODE,
        NAME,
        CouponKind.AMOUNT_OFF,
        START - dt.timedelta(days=1),
        START + dt.timedelta(days=30),
        value_fen=2_000,
        min_spend_fen=10_000,
        target=CampaignTarget.BEARER,
        terms="每单限用一张，不找零。",
    )
    campaign_id = boss.coupons.create_campaign(draft).campaign_id
    boss.coupons.activate(campaign_id)
    boss.coupons.issue(campaign_id, str(uuid.uuid4()), count=3)
    return campaign_id, [c.code for c in boss.coupons.print_job(campaign_id).coupons]


def test_coupons_print_every_layout_and_count_it(
    run: Run, boss: Services, campaign: tuple[int, list[str]], tmp_path: Path
) -> None:
    campaign_id, codes = campaign
    sheet = tmp_path / "a4.pdf"
    code, out, err = run("coupons", "print", CODE, "--out", str(sheet))
    assert code == 0 and "3 coupons on 1 pages" in out, err
    cells = sheet_cells(sheet)
    assert cells[:3] == [[("CODE-128", c), ("QR-Code", c)] for c in codes] and not any(cells[3:])
    assert "满¥100减¥20" in readback.squeeze(readback.text(sheet))
    assert readback.fonts(sheet) and all(font.embedded for font in readback.fonts(sheet))

    roll = tmp_path / "80mm.pdf"
    code, _out, err = run("coupons", "print", NAME, "--out", str(roll), "--layout", "80mm", "--only-unprinted")
    assert code == 1 and "都已打印过" in err and not roll.exists()  # printing speaks Chinese unless --lang en
    boss.coupons.issue(campaign_id, str(uuid.uuid4()), count=2)
    new = [c.code for c in boss.coupons.print_job(campaign_id, only_unprinted=True).coupons]
    code, out, _err = run("coupons", "print", NAME, "--out", str(roll), "--layout", "80mm", "--only-unprinted")
    assert code == 0 and "2 coupons on 2 pages" in out
    both = [("CODE-128", c) for c in new] + [("QR-Code", c) for c in new]
    assert readback.barcodes(roll, DPI["80mm"]) == sorted(both)
    assert round(readback.page_size_mm(roll)[0]) == 80

    narrow = tmp_path / "58mm.pdf"
    code, out, _err = run("coupons", "print", CODE, "--out", str(narrow), "--layout", "58mm")
    assert code == 0 and "5 coupons on 5 pages" in out and round(readback.page_size_mm(narrow)[0]) == 58
    figures = boss.coupons.figures(campaign_id)
    assert (figures.issued, figures.printed, figures.reprints) == (5, 5, 5)
    code, _out, err = run("coupons", "print", "NO-SUCH", "--out", str(tmp_path / "none.pdf"))
    assert code == 1 and err.startswith("error:") and "Traceback" not in err and not (tmp_path / "none.pdf").exists()


def test_coupons_export_to_csv_and_xlsx_is_audited(
    run: Run, store: Store, campaign: tuple[int, list[str]], tmp_path: Path
) -> None:
    _campaign_id, codes = campaign
    table = tmp_path / "coupons.csv"
    code, out, _err = run("coupons", "export", NAME, str(table))
    assert code == 0 and f"3 coupons exported to {table}" in out
    with table.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["code"] for r in rows) == sorted(codes) and {r["status"] for r in rows} == {"issued"}
    book = tmp_path / "coupons.xlsx"
    assert run("coupons", "export", CODE, str(book))[0] == 0 and book.stat().st_size > 1000
    code, _out, err = run("coupons", "export", CODE, str(tmp_path / "coupons.txt"))
    assert code == 1 and ".csv or .xlsx" in err and not (tmp_path / "coupons.txt").exists()
    audited = select(AuditLog.details).where(AuditLog.action == "export", AuditLog.entity == "coupons")
    exports = store.db.read(lambda s: list(s.scalars(audited.order_by(AuditLog.id))))
    assert [(d["file"], d["count"]) for d in exports] == [("coupons.csv", 3), ("coupons.xlsx", 3)]
