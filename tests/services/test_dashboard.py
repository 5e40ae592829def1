"""Close-of-day figures, the day totals behind them and the day report, on hand-made data (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import subprocess
import uuid
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from app.context import Services, Store
from app.coupons.automatic import run_daily
from app.dashboard.day_report import write_day_report
from app.errors import PermissionDenied, ValidationError
from app.integrity import check_database
from app.loyalty.results import PurchaseRequest, SaleLineInput
from app.members.service import MemberForm
from db import day_totals
from db.migrate import alembic_config, upgrade

# START (tests/services/conftest.py) is Wednesday 2026-11-18 10:00 in Shanghai; the figures below are that day's.
DAY = dt.date(2026, 11, 18)


def _register(svc: Services, phone: str, name: str) -> int:
    return svc.members.register(MemberForm(phone=phone, name=name, membership_consent=True))


def _buy(svc: Services, member: int, fen: int, at: dt.datetime, lines: tuple[SaleLineInput, ...] = ()) -> int:
    request = PurchaseRequest(member, fen, str(uuid.uuid4()), lines=lines, sold_at=at)
    return svc.loyalty.record_purchase(request).sale_id


def _shanghai(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC) - dt.timedelta(hours=8)


def test_figures_against_last_week_and_the_four_week_average(svc: Services, boss: Services, store: Store) -> None:
    member = _register(svc, "13812345678", "张伟")
    other = _register(svc, "13912345678", "李娜")
    week = dt.timedelta(weeks=1)
    # Four weeks before: 100, 200, 300, 400 yuan on the same weekday; the day itself 123.45 + 50 (at 00:10 and
    # 23:50 local, the edges of the day in the store's time zone) less a return of the 50.
    for weeks_back, fen in ((4, 10_000), (3, 20_000), (2, 30_000), (1, 40_000)):
        _buy(svc, member, fen, _shanghai(DAY - weeks_back * week, 12))
    _buy(
        svc,
        member,
        12_345,
        _shanghai(DAY, 0, 10),
        (SaleLineInput(10_000, "fresh", quantity=2), SaleLineInput(2_345, "drink")),
    )
    returned = _buy(svc, other, 5_000, _shanghai(DAY, 1), (SaleLineInput(5_000, "fresh"),))
    svc.loyalty.return_sale(returned, str(uuid.uuid4()), "broken")
    _buy(svc, other, 999, _shanghai(DAY + dt.timedelta(days=1), 0, 5))  # the next day: not in the figures
    _buy(svc, other, 777, _shanghai(DAY - dt.timedelta(days=1), 23, 55))  # the day before: not either

    summary = boss.close_of_day.close_of_day(DAY)
    sales = summary.figure("sales")
    assert sales.values == (10_000, 20_000, 30_000, 40_000, 12_345)
    assert sales.last_week == 40_000 and sales.vs_last_week == 12_345 - 40_000
    assert sales.average == 25_000 and sales.vs_average == 12_345 - 25_000
    assert summary.sales_fen == 17_345 and summary.returns_fen == 5_000
    assert summary.member_sales_fen - summary.member_returns_fen == 12_345
    assert summary.figure("member_purchases").today == 2
    assert summary.figure("member_share").today == 1000
    assert summary.figure("new_members").today == 2  # both registered on START's day
    assert summary.figure("csat").today is None
    assert summary.figure("points_issued").today == 123 + 50  # one point a yuan, the returned sale's included
    categories = {c.name: (c.amount_fen, c.quantity) for c in summary.categories}
    assert categories == {"生鲜果蔬": (10_000, 2), "酒水饮料": (2_345, 1)}  # the returned line is taken back
    assert [d.net_fen for d in summary.trend][-1] == 12_345 and len(summary.trend) == 28
    cashier_row = next(s for s in summary.staff if s.name == "李收银")
    assert cashier_row.members_registered == 2
    assert summary.sales_star is not None and summary.sales_star.name == "李收银"
    assert not summary.empty

    with pytest.raises(PermissionDenied):
        svc.close_of_day.close_of_day(DAY)
    assert check_database(store.db) == []


def test_db_check_finds_day_totals_that_differ_and_recount_mends_them(
    svc: Services, boss: Services, store: Store
) -> None:
    member = _register(svc, "13812345678", "张伟")
    _buy(svc, member, 8_800, _shanghai(DAY, 9), (SaleLineInput(8_800, "snack"),))
    with store.db.session() as session:
        session.execute(text("UPDATE sales_day_totals SET sales_fen = sales_fen + 1"))
        session.execute(text("UPDATE category_day_totals SET quantity = quantity + 1"))
        session.commit()
    problems = [str(p) for p in check_database(store.db)]
    assert any("2026-11-18 branch" in p for p in problems), problems
    boss.close_of_day.recount()
    assert check_database(store.db) == []
    with store.db.session() as session:
        assert day_totals.differences(session.connection(), "Asia/Shanghai") == []


def test_an_empty_store_has_empty_figures_and_a_day_report(boss: Services, tmp_path: Path) -> None:
    summary = boss.close_of_day.close_of_day(DAY)
    assert summary.empty and summary.sales_star is None and summary.service_star is None
    assert all(f.today in (0, None) for f in summary.figures)
    assert all(w.count == 0 for w in summary.work_lists)
    out = write_day_report(summary, tmp_path / "empty.pdf", _shanghai(DAY, 22))
    shown = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "No sales in these four weeks." in shown and "2026-11-18" in shown


def test_the_day_report_reads_back_with_its_figures_in_an_embedded_font(
    svc: Services, boss: Services, tmp_path: Path
) -> None:
    member = _register(svc, "13812345678", "张伟")
    _buy(svc, member, 123_456, _shanghai(DAY, 15), (SaleLineInput(123_456, "grain", quantity=3),))
    _buy(svc, member, 10_000, _shanghai(DAY - dt.timedelta(weeks=1), 15))
    out = write_day_report(boss.close_of_day.close_of_day(DAY), tmp_path / "day.pdf", _shanghai(DAY, 22))
    shown = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "¥1,234.56" in shown and "+¥1,134.56" in shown and "¥100.00" in shown
    assert "粮油调味" in shown and "李收银" in shown and "张伟" not in shown
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    font_rows = fonts.splitlines()[2:]
    assert font_rows and all(" yes yes " in row for row in font_rows), fonts


def test_work_list_actions_create_follow_ups_once_and_export_expiring_points(
    svc: Services, boss: Services, store: Store, tmp_path: Path
) -> None:
    member = _register(svc, "13812345678", "张伟")
    with store.db.session() as session:
        session.execute(
            text(
                "INSERT INTO member_segments (member_id, as_of, frequency, monetary_fen, r_score, f_score, m_score,"
                " pyramid_level, lifecycle_stage, churn_warning, model)"
                " VALUES (:m, :d, 3, 100000, 1, 3, 5, 'vip', 'at_risk', :t, 'rules')"
            ),
            {"m": member, "d": DAY, "t": True},
        )
        session.commit()
    assert next(w for w in boss.close_of_day.close_of_day(DAY).work_lists if w.code == "churn_risks").count == 1
    assert boss.work_lists.follow_up_churn_risks().count == 1
    assert boss.work_lists.follow_up_churn_risks().count == 0  # an open follow-up already waits
    with pytest.raises(PermissionDenied):
        svc.work_lists.follow_up_churn_risks()
    out = tmp_path / "expiring.csv"
    assert boss.work_lists.export_expiring_points(out).count == 0
    assert out.read_text(encoding="utf-8-sig").startswith("Member no.")


def test_birthday_coupons_of_the_week_are_found_for_printing(
    svc: Services, boss: Services, store: Store, tmp_path: Path
) -> None:
    with pytest.raises(ValidationError, match="No birthday coupons"):
        boss.work_lists.birthday_coupons()
    svc.members.register(
        MemberForm(
            phone="13812345678",
            name="张伟",
            membership_consent=True,
            marketing_consent=True,
            birthday=dt.date(1990, 11, 20),
        )
    )
    svc.members.register(
        MemberForm(
            phone="13912345678",
            name="李娜",
            membership_consent=True,
            marketing_consent=True,
            birthday=dt.date(1990, 12, 20),
        )
    )
    boss.settings.update({"coupons.birthday_enabled": True})
    assert run_daily(boss.coupons, tmp_path).birthday_coupons == 1
    found = boss.work_lists.birthday_coupons()
    job = boss.coupons.print_job(found.campaign_id, coupon_ids=found.coupon_ids)
    assert [c.member_name for c in job.coupons] == ["张伟"] and len(found.coupon_ids) == 1
    assert boss.work_lists.greet_birthdays().count == 0  # 20 November is not today (18 November)


def test_migration_0008_fills_the_day_totals_from_existing_sales(svc: Services, store: Store) -> None:
    member = _register(svc, "13812345678", "张伟")
    sale = _buy(svc, member, 4_200, _shanghai(DAY, 23, 30), (SaleLineInput(4_200, "baby", quantity=2),))
    _buy(svc, member, 1_000, _shanghai(DAY - dt.timedelta(days=3), 8))
    svc.loyalty.return_sale(sale, str(uuid.uuid4()), "")
    command.downgrade(alembic_config(store.db), "-1")  # to the revision before 0008
    store.db.dispose()
    upgrade(store.db)
    with store.db.session() as session:
        conn = session.connection()
        assert day_totals.differences(conn, "Asia/Shanghai") == []
        rows = conn.execute(
            text("SELECT day, SUM(sales_fen), SUM(returns_fen) FROM sales_day_totals GROUP BY day")
        ).all()
    assert sorted((str(day)[:10], int(s), int(r)) for day, s, r in rows) == [
        ("2026-11-15", 1_000, 0),
        ("2026-11-18", 4_200, 4_200),  # returned the same day (the clock's START): a zero-sum day
    ]


def test_day_totals_count_sales_before_1970_on_their_local_day(svc: Services, store: Store) -> None:
    """An old till's log may go back before 1970: 15:55 UTC is 23:55 in Shanghai, the same day, not the next."""
    member = _register(svc, "13812345678", "张伟")
    _buy(svc, member, 1_234, dt.datetime(1950, 6, 1, 15, 55, 30, tzinfo=dt.UTC))
    with store.db.session() as session:
        conn = session.connection()
        assert day_totals.differences(conn, "Asia/Shanghai") == []
        assert [str(d)[:10] for d in conn.execute(text("SELECT day FROM sales_day_totals")).scalars()] == ["1950-06-01"]
