"""Gift catalogue (managers) and tier thresholds (owner): validated, permission-checked in the service, audited."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.changes import Changes
from app.context import Services, Store
from app.errors import PermissionDenied, ValidationError
from app.loyalty.catalogue import GiftInput, TierInput
from db.models import AuditLog


def test_gift_catalogue(store: Store, svc: Services) -> None:
    manager = store.services(store.operator("manager"))
    with pytest.raises(PermissionDenied):
        svc.catalogue.add_gift(GiftInput("保温杯", 800, 10))
    for bad in (GiftInput("", 800, 10), GiftInput("保温杯", 0, 10), GiftInput("保温杯", 800, -1)):
        with pytest.raises(ValidationError):
            manager.catalogue.add_gift(bad)
    added = manager.catalogue.add_gift(GiftInput("保温杯", 800, 10, name_en="Vacuum flask"))
    assert added.changes == Changes.CATALOGUE and added.id is not None
    gift_id = added.id
    assert [g.name for g in svc.loyalty.gifts()] == ["保温杯"]
    manager.catalogue.update_gift(gift_id, GiftInput("保温杯", 900, 0, active=False))
    assert svc.loyalty.gifts() == []
    with store.db.session() as session:
        assert session.scalar(select(func.count()).where(AuditLog.entity == "gift")) == 2


def test_tier_thresholds_owner_only_and_increasing(store: Store, boss: Services) -> None:
    manager = store.services(store.operator("manager"))
    tiers = boss.catalogue.tiers()
    silver = tiers[1]
    change = {silver.id: TierInput("银卡会员", "Silver", 150_000, 1_500, 115)}
    with pytest.raises(PermissionDenied):
        manager.catalogue.update_tiers(change)
    with pytest.raises(ValidationError):
        boss.catalogue.update_tiers({silver.id: TierInput("银卡会员", "Silver", 900_000, 1_500, 115)})
    with pytest.raises(ValidationError):
        boss.catalogue.update_tiers({tiers[0].id: TierInput("普通会员", "Standard", 1, 0, 100)})
    boss.catalogue.update_tiers(change)
    assert boss.catalogue.tiers()[1].min_spend_12m_fen == 150_000
