"""The demo store's coupon campaigns: one of each kind, coupons issued, some redeemed with purchases.

Everything goes through the real services (campaigns by the owner, purchases at a cashier's counter), so the demo's
coupons, ledger, sales and points satisfy `db check` exactly as a real store's would."""

from __future__ import annotations

import datetime as dt
import random
import uuid

from sqlalchemy import select

from app.context import Store
from app.coupons.campaigns import CampaignDraft
from app.errors import ValidationError
from app.loyalty.service import PurchaseRequest
from db.enums import CampaignTarget, CouponKind, CouponStatus, MemberStatus
from db.models import Coupon, Member, Tier

REDEEMED_PER_CAMPAIGN = 12


def add_demo_coupons(store: Store, seed: int) -> int:
    """Four campaigns, their coupons, and a dozen redemptions each; returns how many coupons were issued."""
    owner = store.services(store.operator("owner"))
    if owner.coupons.campaigns():  # a demo added to a store that has campaigns leaves them as they are
        return 0
    cashier = store.services(store.operator())
    rng = random.Random(seed)
    now = store.clock.now()
    start, until = now - dt.timedelta(days=10), now + dt.timedelta(days=50)
    gold, members = store.db.read(
        lambda s: (
            s.scalar(select(Tier.id).order_by(Tier.rank.desc()).offset(1).limit(1)),
            list(
                s.scalars(select(Member.id).where(Member.status == MemberStatus.ACTIVE).order_by(Member.id).limit(5000))
            ),
        )
    )
    chosen = rng.sample(members, min(40, len(members)))
    campaigns = [
        (
            CampaignDraft(
                "MJ100-20",
                "满100减20",
                CouponKind.AMOUNT_OFF,
                start,
                until,
                value_fen=2_000,
                min_spend_fen=10_000,
                target=CampaignTarget.BEARER,
                total_quantity=1_000,
                terms="每单限用一张，不找零，不兑现。烟草不参与。",
                excluded_categories=("TOBACCO",),
            ),
            300,
        ),
        (
            CampaignDraft(
                "GOLD-90",
                "金卡会员9折券",
                CouponKind.PERCENT_OFF,
                start,
                until,
                percent_off=10,
                max_discount_fen=5_000,
                target=CampaignTarget.TIER,
                tier_id=gold,
                terms="最高减50元，仅限金卡会员本人使用。",
            ),
            0,
        ),
        (
            CampaignDraft(
                "GIFT-CUP",
                "到店礼：保温杯",
                CouponKind.GIFT,
                start,
                until,
                gift_name="保温杯",
                min_spend_fen=5_000,
                target=CampaignTarget.CHOSEN_MEMBERS,
                terms="消费满50元凭券领取，数量有限，送完即止。",
            ),
            0,
        ),
        (
            CampaignDraft(
                "DOUBLE",
                "双倍积分券",
                CouponKind.POINTS_MULTIPLIER,
                start,
                until,
                points_multiplier_pct=200,
                target=CampaignTarget.ALL_MEMBERS,
                terms="当次消费积分翻倍。",
            ),
            500,
        ),
    ]
    issued = 0
    for draft, count in campaigns:
        campaign = owner.coupons.create_campaign(draft).campaign_id
        owner.coupons.activate(campaign)
        try:
            issued += owner.coupons.issue(
                campaign,
                str(uuid.uuid4()),
                count=count,
                member_ids=chosen if draft.target == CampaignTarget.CHOSEN_MEMBERS else (),
            ).issued
        except ValidationError:  # a small demo may have nobody in the tier yet: the campaign waits for them
            continue
        # By holder, not by code: the codes are random, the demo must be the same for the same seed.
        query = (
            select(Coupon.code, Coupon.member_id)
            .where(Coupon.campaign_id == campaign, Coupon.status == CouponStatus.ISSUED)
            .order_by(Coupon.member_id, Coupon.id)
        )
        with store.db.session() as session:
            held = [(code, member_id) for code, member_id in session.execute(query)]
        for code, member_id in rng.sample(held, min(REDEEMED_PER_CAMPAIGN, len(held))):
            cashier.loyalty.record_purchase(
                PurchaseRequest(
                    member_id=member_id or rng.choice(members),
                    total_fen=rng.randrange(12_000, 40_000, 100),
                    idempotency_key=str(uuid.uuid4()),
                    coupon_code=code,
                )
            )
    return issued
