"""RowParser judges a batch a column at a time (app/importing/member_rows.py). The oracle here judges the same rows
one by one, the way the importer did before (each row refused for its first fault in the order a registration checks
its fields; a repeat found against the earlier valid rows of the file), and the two must agree on every row: the
same refusals with the same reasons, the same values to insert, the same tags, on messy generated files split into
small batches so repeats cross batches."""

from __future__ import annotations

import random
from itertools import chain
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.context import Store
from app.errors import ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.importing.cells import parse_gender, parse_points
from app.importing.member_rows import MEMBER_INSERT, UNNUMBERED, ParsedBatch, RowParser
from app.importing.member_store import _new_ids
from app.importing.members import MemberImporter
from app.importing.report import RefusedRow
from app.importing.tables import MEMBER_COLUMNS, Row, read_table, unquote_formula
from app.members.pinyin import pinyin_keys
from app.members.validation import (
    clean_member_no,
    clean_name,
    clean_notes,
    clean_tags,
    normalize_card_no,
    normalize_id_number,
    normalize_phone,
    split_tags,
)
from app.settings import read_settings
from db.models import Member, Tier
from tests.services.test_import_properties import MEMBER_ROW, SETTINGS, write_rows

UUID_AT, ID_AT = MEMBER_INSERT.index("client_uuid"), MEMBER_INSERT.index("id_number_enc")
Judged = tuple[list[tuple[int, str]], list[tuple[int, tuple[Any, ...], list[str]]]]
"""The refused (line, reason) and the valid (line, values without client UUID and sealed ID, tags), in line order."""


def parser_for(store: Store) -> RowParser:
    settings = store.db.read(read_settings)
    tiers = store.db.read(lambda s: list(s.scalars(select(Tier).order_by(Tier.rank))))
    return RowParser(settings, tiers, store.clock.now(), store.cipher, sqlite=store.db.is_sqlite)


def row_by_row(parser: RowParser, rows: list[Row]) -> Judged:
    """The oracle: each row on its own, in file order (the importer's code before the column passes)."""
    seen: dict[str, dict[str, int]] = {"member_no": {}, "phone": {}, "card_no": {}}
    refused: list[tuple[int, str]] = []
    valid: list[tuple[int, tuple[Any, ...], list[str]]] = []
    for row in rows:
        try:
            if row.problem:
                raise ValidationError(S("Errors", "The line cannot be read: {reason}"), reason=row.problem)
            v = row.values
            name = clean_name(unquote_formula(v.get("name", "")))
            phone = normalize_phone(v.get("phone", ""))
            member_no = clean_member_no(v.get("member_no", ""))
            card = normalize_card_no(v["card_no"], parser.card_prefix) if v.get("card_no") else None
            keys = (("member_no", member_no), ("phone", phone), ("card_no", card))
            for key, value in keys:
                earlier = seen[key].get(value) if value else None
                if earlier is not None:
                    raise ValidationError(
                        S("Errors", "Same {what} as line {line} of this file: {value}"),
                        what=key,
                        line=earlier,
                        value=value,
                    )
            gender = parse_gender(v.get("gender", ""))
            birthday, birthday_mmdd = parser._birthday(v.get("birthday", ""))
            joined = parser._joined(v.get("joined_at", ""))
            tier_text = v.get("tier", "").lower()
            tier_id = parser.tiers.get(tier_text) if tier_text else parser.default_tier
            if tier_id is None:
                raise ValidationError(S("Errors", "Unknown tier: {value}"), value=v["tier"][:40])
            points = parse_points(v.get("points", ""))
            notes = clean_notes(unquote_formula(v["notes"])) if v.get("notes") else None
            tags = clean_tags(split_tags(unquote_formula(v["tags"]))) if v.get("tags") else []
            id_number = id_hash = None
            if v.get("id_number"):
                id_number = normalize_id_number(v["id_number"], today=parser.today)
                id_hash = parser.cipher.lookup_hash(id_number)
        except ValidationError as exc:
            refused.append((row.line, str(exc)))
            continue
        for key, value in keys:
            if value:
                seen[key][value] = row.line
        initials, full = pinyin_keys(name)
        values = (
            member_no or UNNUMBERED + phone,
            phone,
            phone[-4:],
            name,
            gender,
            birthday,
            birthday_mmdd,
            card,
            tier_id,
            joined,
            joined,
            notes,
            id_number,
            id_hash,
            initials,
            full,
            points,
        )
        valid.append((row.line, values, tags))
    return refused, valid


def by_columns(parser: RowParser, rows: list[Row], size: int) -> Judged:
    batches: list[ParsedBatch] = list(parser.batches(iter(rows), size))
    assert sum(batch.rows for batch in batches) == len(rows)
    refused: list[RefusedRow] = list(chain.from_iterable(batch.refused for batch in batches))
    valid = []
    for batch in batches:
        for at, (line, values) in enumerate(zip(batch.lines, batch.members, strict=True)):
            token = values[ID_AT]
            clear = None if token is None else parser.cipher.decrypt(token)
            rest = (*values[UUID_AT + 1 : ID_AT], clear, *values[ID_AT + 1 :])
            valid.append((line, rest, batch.tags.get(at, [])))
    return [(r.line, r.reason) for r in refused], valid


def read_rows(path: Path) -> list[Row]:
    return list(read_table(path, MEMBER_COLUMNS).rows)


def assert_same(store: Store, rows: list[Row], size: int) -> Judged:
    old = row_by_row(parser_for(store), rows)
    new = by_columns(parser_for(store), rows, size)
    assert new[0] == old[0]
    assert new[1] == old[1]
    return new


def test_messy_generated_files_are_judged_as_row_by_row(store: Store, tmp_path: Path) -> None:
    totals = {"refused": 0, "valid": 0}

    @settings(SETTINGS, max_examples=40)
    @given(st.lists(MEMBER_ROW, min_size=30, max_size=120), st.integers(1, 40))
    def run(drawn: list[dict[str, str]], size: int) -> None:
        write_rows(tmp_path / "messy.csv", drawn)
        refused, valid = assert_same(store, read_rows(tmp_path / "messy.csv"), size)
        totals["refused"] += len(refused)
        totals["valid"] += len(valid)

    run()
    print(f"column passes against row by row: {totals}")
    assert totals["refused"] > 100 and totals["valid"] > 100  # both paths walked


def test_repeats_across_batches_and_after_refused_rows(store: Store, tmp_path: Path) -> None:
    """A phone, card or member number used again: a repeat of an earlier valid row (in this batch or an earlier
    one) is refused naming its line; a repeat of a refused row is not a repeat; the first fault wins."""
    rng = random.Random(14)
    header = ["member_no", "phone", "name", "card_no", "gender", "points", "id_number", "tags", "birthday"]
    bad = ["ｍ７", "M 1", "12345", "'=1+1", "x" * 41, "bad!", "x", "-1", "110105194912310021", "a" * 41, "1985/2/30"]
    lines = [header]
    for n in range(2000):
        cells = [
            rng.choice([f"M{n}", f"M{n}", f"M{n}", f"M{rng.randrange(50)}", ""]),
            rng.choice([f"139{n:08d}"] * 12 + [f"139{rng.randrange(30):08d}", "１３９００００００１２"]),
            rng.choice(["张三", "欧阳娜娜", "'=1+1", "单田芳"]),
            rng.choice(["", "", f"C{n:07d}", f"C{n:07d}", f"C{rng.randrange(40):07d}", "８８０００００００００１"]),
            rng.choice(["", "男", "female"]),
            rng.choice(["", "12", "1,200"]),
            rng.choice(["", "", "", "11010519491231002X"]),
            rng.choice(["", "宝妈,老人", "a,a,b"]),
            rng.choice(["", "1985-03-04", "19850304"]),
        ]
        if rng.random() < 0.2:
            cells[rng.randrange(len(cells))] = rng.choice(bad)
        lines.append(cells)
    path = tmp_path / "repeats.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("\n".join(",".join(cells) for cells in lines) + "\n,,,\n")
    refused, valid = assert_same(store, read_rows(path), 97)
    reasons = " ".join(reason for _line, reason in refused)
    assert "Same member_no" in reasons and "Same phone" in reasons and "Same card_no" in reasons
    assert len(valid) > 100 and len(refused) + len(valid) == 2000


def test_new_members_ids_are_looked_up_when_they_do_not_follow_the_highest_id(store: Store, tmp_path: Path) -> None:
    """The writer takes the new members' ids from the highest id when it grew by exactly their count, and looks them
    up by member number otherwise (a gap: a PostgreSQL sequence that moved on, a concurrent insert)."""
    path = tmp_path / "three.csv"
    path.write_text("member_no,phone,name\nA1,13900000001,张三\nA2,13900000002,李四\nA3,13900000003,王五\n")
    assert MemberImporter(store.db, store.operator("owner"), store.clock, store.cipher).run(path).imported == 3
    with store.db.session() as session:
        stored = dict(session.execute(select(Member.member_no, Member.id)).all())
    numbers = ["A3", "A1", "A2"]
    with store.db.session() as session:
        looked_up = _new_ids(session.connection(), -5, numbers)
    assert looked_up == [stored[n] for n in numbers]
    with store.db.session() as session:
        following = _new_ids(session.connection(), max(stored.values()) - 3, ["A1", "A2", "A3"])
    assert following == [stored[n] for n in ("A1", "A2", "A3")]
