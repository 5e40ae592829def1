"""`members export`: every member but anonymised ones, in the import format, so an export imports again as it was.
Cells are written as text (tables.write_table): Excel neither turns card and ID numbers into 1.23E+11 nor runs a
name that starts with = as a formula."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.importing.tables import MEMBER_COLUMNS, write_table
from app.security.crypto import FieldCipher
from app.security.operator import Operator, require_role
from app.settings import read_settings
from app.trust.audit import record_export
from db.engine import Database
from db.enums import MemberStatus, StaffRole
from db.models import Member, MemberTag, Tag, Tier


def export_members(db: Database, operator: Operator, cipher: FieldCipher, path: Path) -> int:
    """All members but anonymised ones, in the import format (ID numbers only for the owner)."""
    require_role(operator, StaffRole.MANAGER)
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise ValidationError(S("Errors", "Export to a .csv or .xlsx file."))
    with_ids = operator.at_least(StaffRole.OWNER)

    def rows(session: Session) -> Iterator[list[object]]:
        tz = ZoneInfo(read_settings(session).store_timezone)
        tags: dict[int, list[str]] = {}
        for member_id, name in session.execute(select(MemberTag.member_id, Tag.name).join(Tag)):
            tags.setdefault(member_id, []).append(name)
        query = (
            select(Member, Tier.name)
            .join(Tier, Tier.id == Member.tier_id)
            .where(Member.status != MemberStatus.ANONYMISED)
            .order_by(Member.id)
            .execution_options(yield_per=2000)
        )
        for member, tier_name in session.execute(query):
            id_number = cipher.decrypt(member.id_number_enc) if with_ids and member.id_number_enc else None
            yield [
                member.member_no,
                member.phone,
                member.name,
                member.gender.value,
                member.birthday.isoformat() if member.birthday else None,
                member.card_no,
                member.points_balance,
                tier_name,
                member.joined_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
                id_number,
                ",".join(sorted(tags.get(member.id, []))),
                member.notes,
            ]

    with db.session() as session:
        count = write_table(path, MEMBER_COLUMNS, rows(session))
    record_export(db, operator, "members", path, count)
    return count
