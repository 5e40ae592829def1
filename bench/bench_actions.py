#!/usr/bin/env python3
"""A set of members to an action at 100,000 members (issue 13): a campaign for exactly them, follow-up tasks, a
contact list — through the services, in chunks with progress, as the GUI runs them on its worker.

    python bench/bench_actions.py [--members 100000]

A fresh SQLite store (WAL, synchronous=FULL) in a temporary folder gets a demo of --members members (30 days of
history, no coupons), every member is given a churn warning, and then, as the owner:
  summary     ActionService.summary of the win-back set (members, with consent);
  campaign    ActionService.create_campaign for the win-back set: campaign, one coupon and ledger row per member, one
              transaction; baseline: CouponService.issue of the same number of coupons to an all-members campaign
              (the path that existed before, like for like);
  follow-ups  ActionService.create_follow_ups for the set (consenting members only);
  contacts    ActionService.export_contacts to CSV and to XLSX (consenting members), audited.
Each prints its seconds and how many progress calls it made (the GUI's bar moves with each).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select

from app.actions.member_sets import MemberSet
from app.care.follow_ups import FollowUpPlan, FollowUpReason
from app.context import Store
from app.coupons.campaigns import CampaignDraft
from app.demo.generate import DemoOptions, generate_demo
from db.enums import CampaignTarget, CouponKind
from db.models import Member, MemberSegment


def timed(label: str, work: object) -> object:
    calls = [0]

    def progress(done: int, total: int, what: str) -> bool:
        calls[0] += 1
        return True

    start = time.perf_counter()
    result = work(progress)  # type: ignore[operator]
    print(f"{label:<34} {time.perf_counter() - start:7.2f} s   progress calls {calls[0]}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-actions-") as folder:
        store = Store.open(Path(folder))
        start = time.perf_counter()
        generate_demo(store, DemoOptions(members=args.members, days=30, coupons=False), lambda *_: True)
        today = dt.date.today()

        def churn(session: object) -> None:
            ids = list(session.scalars(select(Member.id)))  # type: ignore[attr-defined]
            rows = [
                {
                    "member_id": i,
                    "as_of": today,
                    "monetary_fen": 0,
                    "pyramid_level": "small",
                    "lifecycle_stage": "dormant",
                    "churn_warning": True,
                    "model": "rule",
                }
                for i in ids
            ]
            session.execute(insert(MemberSegment), rows)  # type: ignore[attr-defined]

        store.db.write(churn)
        print(f"store of {args.members:,} members made in {time.perf_counter() - start:.1f} s (not measured below)")
        manager = store.services(store.operator("owner"))  # an owner: campaigns, tasks and full phones
        actions, win_back = manager.actions, MemberSet.win_back()
        summary = timed("summary", lambda _p: actions.summary(win_back))
        print(f"  set: {summary.members:,} active members, {summary.with_consent:,} with marketing consent")  # type: ignore[attr-defined]
        draft = actions.win_back_draft()
        made = timed("campaign for the set", lambda p: actions.create_campaign(win_back, draft, "bench", p))
        print(f"  coupons issued: {made.issued:,}")  # type: ignore[attr-defined]
        base = CampaignDraft(
            "BASE",
            "baseline",
            CouponKind.AMOUNT_OFF,
            draft.valid_from,
            draft.valid_until,
            value_fen=1000,
            target=CampaignTarget.ALL_MEMBERS,
        )
        coupons = manager.coupons
        campaign = coupons.create_campaign(base).campaign_id
        issued = timed("baseline: issue to all members", lambda _p: coupons.issue(campaign, str(uuid.uuid4())))
        print(f"  coupons issued: {issued.issued:,}")  # type: ignore[attr-defined]
        plan = FollowUpPlan(FollowUpReason.CHURN_WARNING, today)
        tasks = timed("follow-up tasks for the set", lambda p: actions.create_follow_ups(win_back, plan, "bench", p))
        print(f"  tasks made: {tasks.created:,}")  # type: ignore[attr-defined]
        for suffix in (".csv", ".xlsx"):
            path = Path(folder) / f"contacts{suffix}"
            listed = timed(f"contact list {suffix}", lambda p, path=path: actions.export_contacts(win_back, path, p))
            print(f"  rows: {listed.rows:,}, {path.stat().st_size / 1e6:.1f} MB")  # type: ignore[attr-defined]
        store.close()


if __name__ == "__main__":
    main()
