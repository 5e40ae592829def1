"""The trust tests use the services' store fixtures (SQLite file and PostgreSQL)."""

from tests.services.conftest import boss, cashier, clock, owner, store, svc

__all__ = ["boss", "cashier", "clock", "owner", "store", "svc"]
