"""Typed settings: one registry, one frozen typed object, every setting read by the code it governs."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from sqlalchemy import insert, update

from app.context import Store
from app.settings import REGISTRY, VERSION_KEY, StoreSettings, attribute_of, read_settings
from db.models import Setting

ROOT = Path(__file__).resolve().parent.parent


def test_the_typed_object_has_exactly_the_registry() -> None:
    assert [f.name for f in dataclasses.fields(StoreSettings)] == [attribute_of(k) for k in REGISTRY]
    defaults = StoreSettings.defaults()
    assert defaults.by_key() == {k: d.default for k, d in REGISTRY.items()}
    with pytest.raises(dataclasses.FrozenInstanceError):
        defaults.points_fen_per_point = 1  # type: ignore[misc]


def test_every_registered_setting_is_read_by_some_code() -> None:
    """A setting the owner can change but nothing reads is a lie on the settings screen."""
    sources = [
        path.read_text(encoding="utf-8")
        for folder in ("app", "ui")
        for path in (ROOT / folder).rglob("*.py")
        if path != ROOT / "app" / "settings.py"
    ]
    unread = [key for key in REGISTRY if not any(re.search(rf"\.{attribute_of(key)}\b", text) for text in sources)]
    assert unread == []


def test_stored_values_override_defaults_and_bad_ones_are_ignored(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "data")
    with store.db.engine.begin() as conn:
        conn.execute(
            insert(Setting),
            [
                {"key": "points.redeem_cap_pct", "value": 30},
                {"key": "points.fen_per_point", "value": "lots"},
                {"key": "points.excluded_categories", "value": ["tobacco"]},
                {"key": "no.such.key", "value": 1},
            ],
        )
        # Whatever writes settings rows writes a new version, or counters keep the settings they read before.
        conn.execute(update(Setting).where(Setting.key == VERSION_KEY).values(value="written-by-hand"))
    settings = store.db.read(read_settings)
    assert settings.points_redeem_cap_pct == 30
    assert settings.points_fen_per_point == REGISTRY["points.fen_per_point"].default
    assert settings.points_excluded_categories == ("tobacco",)
    assert store.services(store.operator("owner")).settings.all()["points.excluded_categories"] == ["tobacco"]
    store.close()
