"""The coupon command-line tests use the services' store fixtures (SQLite file and PostgreSQL) and the in-process
command line."""

from tests.cli_support import run
from tests.services.conftest import boss, cashier, clock, owner, store, svc

__all__ = ["boss", "cashier", "clock", "owner", "run", "store", "svc"]
