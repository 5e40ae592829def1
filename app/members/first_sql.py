"""Written by `python -m app.members.first_sql` from the lookup's own statements
(`app.members.service.sqlite_statements`); tests/test_start_up.py fails when they differ. Do not edit: write it
again."""

from __future__ import annotations

from app.members.plan import Stages

STAGES: Stages = {
    "CARD_OR_NUMBER": (
        True,
        [
            (
                "SELECT members.id, members.member_no, members.name, members.phone, members.card_no, "
                "tiers.name AS name_1, tiers.name_en, members.points_balance, members.last_visit_at \n"
                "FROM members JOIN tiers ON tiers.id = members.tier_id \n"
                "WHERE members.status != :status_1 AND (members.card_no = :text OR members.member_no = "
                ":text)\n"
                " LIMIT :limit OFFSET :param_1",
                {"param_1": 0, "status_1": "anonymised"},
            )
        ],
    ),
    "CARD_OR_NUMBER_PREFIX": (
        False,
        [
            (
                "SELECT members.id, members.member_no, members.name, members.phone, "
                "members.card_no, tiers.name AS name_1, tiers.name_en, members.points_balance, "
                "members.last_visit_at \n"
                "FROM members JOIN tiers ON tiers.id = members.tier_id \n"
                "WHERE members.status != :status_1 AND members.card_no >= :text AND "
                "members.card_no < :text_end ORDER BY members.card_no, members.id\n"
                " LIMIT :limit OFFSET :param_1",
                {"param_1": 0, "status_1": "anonymised"},
            ),
            (
                "SELECT members.id, members.member_no, members.name, members.phone, "
                "members.card_no, tiers.name AS name_1, tiers.name_en, members.points_balance, "
                "members.last_visit_at \n"
                "FROM members JOIN tiers ON tiers.id = members.tier_id \n"
                "WHERE members.status != :status_1 AND members.member_no >= :text AND "
                "members.member_no < :text_end AND NOT (members.card_no >= :text AND "
                "members.card_no < :text_end) ORDER BY members.member_no, members.id\n"
                " LIMIT :limit OFFSET :param_1",
                {"param_1": 0, "status_1": "anonymised"},
            ),
        ],
    ),
    "LAST4": (
        False,
        [
            (
                "SELECT members.id, members.member_no, members.name, members.phone, members.card_no, tiers.name "
                "AS name_1, tiers.name_en, members.points_balance, members.last_visit_at \n"
                "FROM members JOIN tiers ON tiers.id = members.tier_id \n"
                "WHERE members.status != :status_1 AND members.phone_last4 = :text ORDER BY "
                "members.last_visit_at DESC, members.id DESC\n"
                " LIMIT :limit OFFSET :param_1",
                {"param_1": 0, "status_1": "anonymised"},
            )
        ],
    ),
    "NAME": (
        False,
        [
            (
                "SELECT members.id, members.member_no, members.name, members.phone, members.card_no, tiers.name "
                "AS name_1, tiers.name_en, members.points_balance, members.last_visit_at \n"
                "FROM members JOIN tiers ON tiers.id = members.tier_id \n"
                "WHERE members.status != :status_1 AND members.name >= :text AND members.name < :text_end ORDER "
                "BY members.name, members.id\n"
                " LIMIT :limit OFFSET :param_1",
                {"param_1": 0, "status_1": "anonymised"},
            )
        ],
    ),
    "PHONE": (
        True,
        [
            (
                "SELECT members.id, members.member_no, members.name, members.phone, members.card_no, tiers.name "
                "AS name_1, tiers.name_en, members.points_balance, members.last_visit_at \n"
                "FROM members JOIN tiers ON tiers.id = members.tier_id \n"
                "WHERE members.status != :status_1 AND members.phone = :text\n"
                " LIMIT :limit OFFSET :param_1",
                {"param_1": 0, "status_1": "anonymised"},
            )
        ],
    ),
    "PHONE_OR_CARD_PREFIX": (
        False,
        [
            (
                "SELECT members.id, members.member_no, members.name, members.phone, "
                "members.card_no, tiers.name AS name_1, tiers.name_en, members.points_balance, "
                "members.last_visit_at \n"
                "FROM members JOIN tiers ON tiers.id = members.tier_id \n"
                "WHERE members.status != :status_1 AND members.phone >= :text AND members.phone "
                "< :text_end ORDER BY members.phone, members.id\n"
                " LIMIT :limit OFFSET :param_1",
                {"param_1": 0, "status_1": "anonymised"},
            ),
            (
                "SELECT members.id, members.member_no, members.name, members.phone, "
                "members.card_no, tiers.name AS name_1, tiers.name_en, members.points_balance, "
                "members.last_visit_at \n"
                "FROM members JOIN tiers ON tiers.id = members.tier_id \n"
                "WHERE members.status != :status_1 AND members.card_no >= :text AND "
                "members.card_no < :text_end AND NOT (members.phone >= :text AND members.phone < "
                ":text_end) ORDER BY members.card_no, members.id\n"
                " LIMIT :limit OFFSET :param_1",
                {"param_1": 0, "status_1": "anonymised"},
            ),
        ],
    ),
    "PINYIN": (
        False,
        [
            (
                "SELECT members.id, members.member_no, members.name, members.phone, members.card_no, "
                "tiers.name AS name_1, tiers.name_en, members.points_balance, members.last_visit_at \n"
                "FROM members JOIN tiers ON tiers.id = members.tier_id \n"
                "WHERE members.status != :status_1 AND members.pinyin_initials >= :text AND "
                "members.pinyin_initials < :text_end ORDER BY members.pinyin_initials, members.id\n"
                " LIMIT :limit OFFSET :param_1",
                {"param_1": 0, "status_1": "anonymised"},
            ),
            (
                "SELECT members.id, members.member_no, members.name, members.phone, members.card_no, "
                "tiers.name AS name_1, tiers.name_en, members.points_balance, members.last_visit_at \n"
                "FROM members JOIN tiers ON tiers.id = members.tier_id \n"
                "WHERE members.status != :status_1 AND members.pinyin_full >= :text AND members.pinyin_full < "
                ":text_end AND NOT (members.pinyin_initials >= :text AND members.pinyin_initials < :text_end) "
                "ORDER BY members.pinyin_full, members.id\n"
                " LIMIT :limit OFFSET :param_1",
                {"param_1": 0, "status_1": "anonymised"},
            ),
        ],
    ),
}

if __name__ == "__main__":
    import pprint
    import subprocess
    import sys
    from pathlib import Path

    from app.members.service import sqlite_statements

    path = Path(__file__)
    text = path.read_text(encoding="utf-8")
    start = text.index("STAGES: ")
    end = text.index("\n\nif __name__")
    written = "STAGES: Stages = " + pprint.pformat(sqlite_statements(), width=110)
    path.write_text(text[:start] + written + text[end:], encoding="utf-8")
    subprocess.run([sys.executable, "-m", "ruff", "format", str(path)], check=True)
