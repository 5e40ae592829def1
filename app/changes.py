"""What an operation changed, as the service that made the change reports it (Anki's OpChanges, in small).

A service's result carries `changes`; the GUI's task runner announces them after the operation, and every open
screen that shows one of them reloads. The screen never guesses what a call changed.
"""

from __future__ import annotations

import enum
from typing import Protocol


class Changes(enum.Flag):
    """What an operation changed; screens showing it reload."""

    NONE = 0
    MEMBERS = enum.auto()
    POINTS = enum.auto()
    SALES = enum.auto()
    COUPONS = enum.auto()
    COMPLAINTS = enum.auto()
    SURVEYS = enum.auto()
    FOLLOW_UPS = enum.auto()
    SEGMENTS = enum.auto()
    SETTINGS = enum.auto()
    STAFF = enum.auto()
    CATALOGUE = enum.auto()
    """Gifts (and their stock) and tiers."""
    AUDIT = enum.auto()


class ReportsChanges(Protocol):
    """A service result that says what it changed."""

    @property
    def changes(self) -> Changes: ...


def changes_of(result: object) -> Changes:
    """The changes a service result reports (NONE for a result that reports none)."""
    found = getattr(result, "changes", Changes.NONE)
    return found if isinstance(found, Changes) else Changes.NONE
