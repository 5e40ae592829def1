"""The segment refresh gives what the implementation before the speed work (main at aecaf9c) gave, on real
purchase histories: the first 300 CDNOW customers, moved in time to end the day before the clock, plus members who
never bought and three new buyers. Pyramid, RFM, lifecycle, moves, counts and the rule's figures are compared
exactly, on SQLite and PostgreSQL. The model's parameters and figures within 0.1 % (stored ones also within one unit
of their rounding): since aecaf9c the fit moved from SciPy's L-BFGS-B to plain numpy (issue 15, the bundle's size),
which lands on the same optimum to about 1e-4. The expected values were written once by
`tests/data/make_segments_golden.py` on that implementation; they are not to be regenerated to make a change pass.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import math
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.context import Services, Store
from app.importing.sales import SalesImporter
from app.insights.refresh import SegmentReport, parameters
from app.loyalty.service import PurchaseRequest
from app.members.service import MemberForm
from db.models import Member, MemberSegment
from tests.services.conftest import START

DATA = Path(__file__).resolve().parent.parent / "data"
GOLDEN = DATA / "segments_golden.json.gz"
SHIFT = dt.date(2026, 11, 16) - dt.date(1998, 6, 30)
"""The CDNOW log ends 1998-06-30; moved to end the day before the tests' clock (2026-11-18 in Shanghai)."""
AS_OF_MID_MONTH = dt.date(2026, 6, 15)
"""A second refresh cut in the middle of a month: later sales of that month are recounted out."""
AS_OF_EARLY = dt.date(2025, 5, 28)
"""A third a week after the first sales: too few came back for a fit, so the interval rule answers."""


def shifted_sales(folder: Path) -> Path:
    out = folder / "cdnow_shifted.csv"
    with (DATA / "cdnow" / "cdnow_sample_first_300_customers.csv").open() as src, out.open("w", newline="") as dst:
        writer = csv.writer(dst)
        writer.writerow(["member_no", "time", "amount"])
        for row in csv.DictReader(src):
            writer.writerow([row["member_no"], (dt.date.fromisoformat(row["time"]) + SHIFT).isoformat(), row["amount"]])
    return out


def _plain(value: Any) -> Any:
    """JSON-safe with NaN kept apart from numbers (JSON has no NaN)."""
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return value


def _report(report: SegmentReport, numbers: dict[int, str]) -> dict[str, Any]:
    seg = report.segments
    fields = [
        "recency_days",
        "frequency",
        "monetary_fen",
        "r_score",
        "f_score",
        "m_score",
        "rfm_class",
        "pyramid",
        "stage",
        "p_alive",
        "expected_purchases",
        "expected_spend_fen",
        "value_fen",
        "churn_warning",
        "model",
    ]
    members = {
        numbers[int(m)]: [_plain(getattr(seg, f)[i].item()) for f in fields] for i, m in enumerate(seg.member_ids)
    }
    return {
        "as_of": report.as_of.isoformat(),
        "stored": report.stored,
        "later_sales_ignored": report.later_sales_ignored,
        "model": report.fit.model,
        "parameters": parameters(report.fit),
        "counts": report.counts,
        "moves": seg.moves,
        "fields": fields,
        "members": members,
    }


def snapshot(store: Store, boss: Services, folder: Path) -> dict[str, Any]:
    imported = SalesImporter(store.db, store.operator("owner"), store.clock).run(
        shifted_sales(folder), create_missing=True
    )
    assert imported.imported == 924 and not imported.refused
    store.clock.advance(-dt.timedelta(days=200))  # type: ignore[attr-defined]
    for i in range(8):
        member = boss.members.register(MemberForm(phone=f"1391234500{i}", name="李四", membership_consent=True))
        if i >= 5:  # three new buyers: once, twice, three times
            for days_ago in range(i - 4):
                at = START - dt.timedelta(days=3 + 5 * days_ago)
                key = f"golden-{i}-{days_ago}"
                request = PurchaseRequest(member_id=member, total_fen=1999 * i, idempotency_key=key, sold_at=at)
                boss.loyalty.record_purchase(request)
    store.clock.advance(dt.timedelta(days=200))  # type: ignore[attr-defined]
    with store.db.session() as session:
        numbers = {m: no for m, no in session.execute(select(Member.id, Member.member_no))}
    latest = boss.segments.refresh()
    mid_month = boss.segments.refresh(as_of=AS_OF_MID_MONTH)
    early = boss.segments.refresh(as_of=AS_OF_EARLY)
    with store.db.session() as session:
        stored = {
            numbers[row.member_id]: [
                _plain(getattr(row, c.name)) if c.name != "as_of" else row.as_of.isoformat()
                for c in MemberSegment.__table__.columns
                if c.name != "member_id"
            ]
            for row in session.scalars(select(MemberSegment))
        }
    return {
        "latest": _report(latest, numbers),
        "mid_month": _report(mid_month, numbers),
        "early": _report(early, numbers),
        "stored": stored,
    }


MODEL_FIELDS = {"p_alive", "expected_purchases", "expected_spend_fen", "value_fen"}
MODEL_COLUMNS = {
    "p_alive_permille",
    "expected_purchases_milli",
    "expected_spend_per_purchase_fen",
    "value_over_horizon_fen",
}
SAME_OPTIMUM = 1e-3


def _close(found: Any, expected: Any, unit: float) -> bool:
    if isinstance(expected, (int, float)) and isinstance(found, (int, float)):
        return found == pytest.approx(expected, rel=SAME_OPTIMUM, abs=unit)
    return bool(found == expected)


def test_refresh_gives_what_it_gave_before(store: Store, boss: Services, tmp_path: Path) -> None:
    with gzip.open(GOLDEN, "rt", encoding="utf-8") as fh:
        expected = json.load(fh)
    found = json.loads(json.dumps(snapshot(store, boss, tmp_path)))
    for run in ("latest", "mid_month", "early"):
        for key in ("as_of", "stored", "later_sales_ignored", "model", "counts", "moves", "fields"):
            assert found[run][key] == expected[run][key], (run, key)
        assert found[run]["parameters"] == pytest.approx(expected[run]["parameters"], rel=SAME_OPTIMUM), run
        fields = expected[run]["fields"]
        assert found[run]["members"].keys() == expected[run]["members"].keys()
        for member_no, figures in expected[run]["members"].items():
            for name, got, want in zip(fields, found[run]["members"][member_no], figures, strict=True):
                same = _close(got, want, 1e-9) if name in MODEL_FIELDS else got == want
                assert same, (run, member_no, name, got, want)
    columns = [c.name for c in MemberSegment.__table__.columns if c.name != "member_id"]
    assert found["stored"].keys() == expected["stored"].keys()
    for member_no, row in expected["stored"].items():
        for name, got, want in zip(columns, found["stored"][member_no], row, strict=True):
            same = _close(got, want, 1) if name in MODEL_COLUMNS else got == want
            assert same, (member_no, name, got, want)
