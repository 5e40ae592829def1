"""The counter's start path loads only what it uses (issue 14: launch → first lookup ≤ 0.8 s): opening a store
already at head loads no Alembic, signing in and the first lookup load no chart, segment, coupon, backup or care
module; `Services.prepare` makes every service (the GUI asks a worker once the first answer is painted)."""

from __future__ import annotations

import subprocess
import sys
from functools import cached_property
from pathlib import Path

from app.context import Services, Store
from app.members.service import MemberForm

ROOT = Path(__file__).resolve().parent.parent
NOT_AT_START = ("alembic", "app.charts", "app.insights.service", "app.coupons.service", "app.trust.backup", "app.care")
"""Module prefixes the path from opening the store to the first lookup answered must not load."""

START_PATH = """
import sys
from pathlib import Path
from app.context import Store
from db.engine import counter_connection

with counter_connection():
    store = Store.open(Path(sys.argv[1]))
    signed = store.sign_ins().sign_in("owner", "0000")
    hits = store.services(signed.operator).members.lookup("zs").hits
    store.close()
print(len(hits))
print("\\n".join(sorted(sys.modules)))
"""


def test_opening_signing_in_and_the_first_lookup_load_only_what_they_use(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "data")
    services = store.services(store.operator())
    services.members.register(MemberForm(phone="13812345678", name="张三", membership_consent=True))
    store.close()

    result = subprocess.run(
        [sys.executable, "-c", START_PATH, str(tmp_path / "data")], cwd=ROOT, capture_output=True, text=True, check=True
    )
    found, *modules = result.stdout.split()
    assert found == "1", "the lookup found the member"
    loaded = [name for name in modules if name.startswith(NOT_AT_START)]
    assert loaded == [], "loaded before the first lookup was answered"


def test_prepare_makes_every_service(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "data")
    try:
        services = store.services(store.operator())
        names = [name for name, member in vars(Services).items() if isinstance(member, cached_property)]
        assert len(names) == 17 and not any(name in vars(services) for name in names), "nothing made before use"
        services.prepare()
        assert all(name in vars(services) for name in names)
    finally:
        store.close()
