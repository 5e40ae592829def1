"""`db check`'s part for the charts' own pre-aggregates: the members' spend per branch and month and its packs
(db/spend_months.py) must equal the sales they sum."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.i18n import QT_TRANSLATE_NOOP as S
from app.settings import read_settings
from db import spend_months

SPEND_MONTHS_DIFFER = S(
    "Integrity",
    "{count} months of a branch whose members' spend (the Pareto curve) differs from the sales; "
    "`main.py segments --recount` counts them again ({examples})",
)


def spend_month_problems(session: Session) -> list[tuple[str, list[str]]]:
    """(message, the months and branches that differ), once, when any differs; else nothing."""
    found = spend_months.differences(session.connection(), read_settings(session).store_timezone)
    return [(SPEND_MONTHS_DIFFER, found)] if found else []
