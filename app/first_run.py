"""The first start on a new PC: make a new store, join a chain's server, or fill a demo store for training.

Everything is checked before anything is written, so a refused form leaves the PC as new as it was. A chain's
server address is saved in the data folder (`database.url`, readable by this account only where the system allows)
once the server has answered; from then on the GUI and the command line both use it unless `--database` is given.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session

from app.context import Store
from app.errors import ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.keyfile import import_key, seal_for
from app.paths import DataPaths
from app.security.pins import hash_pin
from app.security.staff import DEFAULT_PINS, check_pin
from app.trust.audit import record_audit
from db.engine import save_database_url
from db.models import Staff

log = logging.getLogger("memberdesk.first_run")

CONNECT_TIMEOUT_S = 5
Progress = Callable[[int, int, str], bool]


@dataclass(frozen=True)
class NewStore:
    store_name: str
    owner_name: str
    """The owner's name on screen (店主, 王老板…)."""
    owner_username: str
    owner_pin: str
    yuan_per_point: int
    """Spend this many yuan to earn one point."""
    points_per_yuan: int
    """This many points pay ¥1 at the till."""
    expiry_months: int
    """Points last this many months; 0: they never expire."""


def _check_new_store(setup: NewStore) -> None:
    if not setup.store_name.strip() or len(setup.store_name) > 60:
        raise ValidationError(S("Errors", "Enter the store's name (at most 60 characters)."), field="store_name")
    if not setup.owner_name.strip() or len(setup.owner_name) > 100:
        raise ValidationError(S("Errors", "Enter the name shown on screen."), field="owner_name")
    username = setup.owner_username.strip().lower()
    if not (username.isascii() and username.replace("_", "").isalnum() and 2 <= len(username) <= 40):
        raise ValidationError(S("Errors", "A user name has 2 to 40 letters, digits or _."), field="owner_username")
    check_pin(setup.owner_pin)
    if setup.owner_pin in DEFAULT_PINS:
        raise ValidationError(S("Errors", "Choose a PIN other than the starting one."), field="pin")
    if not 1 <= setup.yuan_per_point <= 1000:
        raise ValidationError(S("Errors", "One point per ¥1 to ¥1,000 spent."), field="yuan_per_point")
    if not 1 <= setup.points_per_yuan <= 100_000:
        raise ValidationError(S("Errors", "¥1 is worth 1 to 100,000 points."), field="points_per_yuan")
    if not 0 <= setup.expiry_months <= 120:
        raise ValidationError(S("Errors", "Points last 1 to 120 months, or 0 for ever."), field="expiry_months")


def create_store(data_dir: Path, setup: NewStore) -> None:
    """A new store with its name, its owner's account and PIN, and its points rules."""
    _check_new_store(setup)
    store = Store.open(data_dir)
    try:
        owner = store.operator("owner")
        services = store.services(owner)
        services.settings.update(
            {
                "store.name": setup.store_name.strip(),
                "points.fen_per_point": setup.yuan_per_point * 100,
                "points.redeem_points_per_yuan": setup.points_per_yuan,
                "points.expiry_mode": "rolling" if setup.expiry_months else "none",
                "points.expiry_months": setup.expiry_months or 24,
            }
        )

        def name_owner(session: Session) -> None:
            staff = session.scalars(select(Staff).where(Staff.id == owner.staff_id).with_for_update()).one()
            staff.username = setup.owner_username.strip().lower()
            staff.display_name = setup.owner_name.strip()
            staff.pin_hash = hash_pin(setup.owner_pin)
            record_audit(session, owner, "first_run", "staff", staff.id, {"username": staff.username})

        store.db.write(name_owner)
    finally:
        store.close()
    log.info("new store %r made in %s", setup.store_name, data_dir)


SERVER_UNREACHABLE = S("Errors", "The server {address} did not answer: {reason}")
NOT_A_SERVER_ADDRESS = S(
    "Errors",
    "{address} is not a PostgreSQL address; it looks like postgresql+psycopg://user:password@server/memberdesk",
)


def check_server(url: str) -> str:
    """Connect to the chain's server and return its version, or say why not (never saving anything)."""
    address = url.strip()
    try:
        parsed = make_url(address)
    except ArgumentError:
        raise ValidationError(NOT_A_SERVER_ADDRESS, field="address", address=address) from None
    if parsed.get_backend_name() != "postgresql":
        raise ValidationError(NOT_A_SERVER_ADDRESS, field="address", address=address)
    shown = parsed.render_as_string(hide_password=True)
    engine = create_engine(parsed, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SELECT version()")).scalar_one()).split(",")[0]
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise ValidationError(SERVER_UNREACHABLE, field="address", address=shown, reason=reason) from None
    finally:
        engine.dispose()


def join_chain(data_dir: Path, url: str, key_export: Path, passphrase: str) -> str:
    """Make this PC a counter of a chain: the server answers, the chain's key is taken in, the database is brought
    to this version, and only then is the address saved. Returns the server's version."""
    version = check_server(url)
    paths = DataPaths(data_dir).ensure()
    import_key(key_export, paths.key_file, passphrase, seal_for(paths.root))
    Store.open(data_dir, url.strip()).close()
    save_database_url(data_dir, url.strip())
    log.info("joined the chain's server %s", make_url(url.strip()).render_as_string(hide_password=True))
    return version


def create_demo_store(data_dir: Path, progress: Progress) -> str:
    """A demo store for training (the usual 3,000 members); returns its summary."""
    from app.demo import DemoOptions, generate_demo

    store = Store.open(data_dir)
    try:
        return generate_demo(store, DemoOptions(), progress)
    finally:
        store.close()
