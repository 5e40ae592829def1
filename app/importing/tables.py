"""Reading and writing member and sales files, headers in English or Chinese: CSV (UTF-8 or GB18030), Excel's
tab-separated text (its "Unicode 文本" is UTF-16 with a byte order mark, its "文本文件(制表符分隔)" GB18030) and XLSX.

A row that cannot be read (a cell longer than CELL_MAX, a damaged line) comes out with its problem, so the importer
refuses that row by its line and goes on. Exports write XLSX cells as text (Excel keeps 12-digit card and 18-digit ID
numbers as they are, and never runs a name as a formula) and prefix a CSV cell that starts with = + - @ with an
apostrophe (an import takes it off again)."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from collections.abc import Iterator, Sequence
from itertools import compress
from pathlib import Path
from typing import Any, NamedTuple

from app.errors import ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate

MEMBER_COLUMNS = (
    "member_no",
    "phone",
    "name",
    "gender",
    "birthday",
    "card_no",
    "points",
    "tier",
    "joined_at",
    "id_number",
    "tags",
    "notes",
)
SALES_COLUMNS = ("member_no", "card_no", "phone", "time", "amount", "receipt_no", "branch")

HEADER_ALIASES: dict[str, str] = {
    "会员编号": "member_no",
    "会员号": "member_no",
    "编号": "member_no",
    "手机号": "phone",
    "手机": "phone",
    "手机号码": "phone",
    "电话": "phone",
    "姓名": "name",
    "名字": "name",
    "性别": "gender",
    "生日": "birthday",
    "出生日期": "birthday",
    "卡号": "card_no",
    "会员卡号": "card_no",
    "积分": "points",
    "积分余额": "points",
    "等级": "tier",
    "会员等级": "tier",
    "入会时间": "joined_at",
    "入会日期": "joined_at",
    "注册时间": "joined_at",
    "注册日期": "joined_at",
    "身份证号": "id_number",
    "身份证": "id_number",
    "证件号": "id_number",
    "标签": "tags",
    "备注": "notes",
    "时间": "time",
    "日期": "time",
    "消费时间": "time",
    "交易时间": "time",
    "金额": "amount",
    "消费金额": "amount",
    "实付金额": "amount",
    "小票号": "receipt_no",
    "单号": "receipt_no",
    "小票": "receipt_no",
    "门店": "branch",
    "分店": "branch",
}


class Table(NamedTuple):
    columns: list[str]
    """The recognised columns, in the file's order."""
    rows: Iterator[Row]
    size_hint: int
    """About how many rows follow the header (lines of a CSV, rows of a sheet), for progress: 0 if not known."""


class Row(NamedTuple):
    line: int
    """The line (CSV) or row (XLSX) number in the file, as a person opening it would count."""
    values: dict[str, str]
    """Cell texts by column, without surrounding spaces."""
    problem: str = ""
    """Why the row could not be read ('' when it could): it is refused with this reason."""


CELL_MAX = 4000
"""No cell of a member or sales file needs more (notes have NOTES_MAX = 2000); a longer one refuses its row."""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A CSV cell starting with one of these is run as a formula by Excel unless an apostrophe comes first."""
_CSV_FIELD_LIMIT = 2**31 - 1
"""The csv module's limit (131,072 characters by default, and a longer field stops the reader): raised so the row
is read and refused by CELL_MAX instead. Within a C long on every platform."""


def _canonical(header: str, known: Sequence[str]) -> str | None:
    text = header.strip().lstrip("\ufeff")
    lowered = text.lower().replace(" ", "_")
    if lowered in known:
        return lowered
    alias = HEADER_ALIASES.get(text)
    return alias if alias in known else None


def _decode(raw: bytes) -> str:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise ValidationError(S("Errors", "The file is neither UTF-8 nor GB18030 text.")) from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError(S("Errors", "The file is neither UTF-8 nor GB18030 text."))


def read_table(path: Path, known: Sequence[str]) -> Table:
    """The recognised columns and the rows. Unknown columns are ignored; a file with none known is refused."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(path, known)
    if suffix not in (".csv", ".txt"):
        raise ValidationError(S("Errors", "Only .csv, .txt and .xlsx files can be imported."))
    text = _decode(path.read_bytes())
    first_line = text[: text.find("\n")]
    csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t" if "\t" in first_line else ",")
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise ValidationError(S("Errors", "The file is empty.")) from None
    columns = [_canonical(h, known) for h in header]
    _require_known(columns)
    return Table([c for c in columns if c], _csv_rows(reader, columns), _lines(text) - 1)


def _csv_rows(reader: Any, columns: list[str | None]) -> Iterator[Row]:
    make = _RowMaker(columns)
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Row(reader.line_num, {}, str(exc))
            continue
        row = make(reader.line_num, values)
        if row is not None:
            yield row


class _RowMaker:
    """A line's cells as a Row of the recognised columns, or None for a blank line (all cells empty or spaces). A
    million lines are made into rows per import: each step here runs in C."""

    def __init__(self, columns: list[str | None]) -> None:
        self.names = [c for c in columns if c]
        self.known = [c is not None for c in columns]

    def __call__(self, line: int, values: list[str]) -> Row | None:
        joined = "".join(values)
        if joined.isspace() or not joined:
            return None
        if len(joined) > CELL_MAX and max(map(len, values)) > CELL_MAX:
            message = translate("Errors", S("Errors", "A value has more than {max} characters."))
            return Row(line, {}, message.format(max=CELL_MAX))
        cells = map(str.strip, compress(values, self.known))
        return Row(line, dict(zip(self.names, cells, strict=False)))  # a short line lacks its last cells


def _lines(text: str) -> int:
    return text.count("\n") + (0 if text.endswith("\n") or not text else 1)


def _require_known(columns: list[str | None]) -> None:
    if not any(columns):
        raise ValidationError(S("Errors", "No known column headers in the first row of the file."))


def _read_xlsx(path: Path, known: Sequence[str]) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ValidationError(S("Errors", "The spreadsheet cannot be read: {reason}"), reason=str(exc)) from exc
    sheet = book.worksheets[0]
    it = sheet.iter_rows(values_only=True)
    header = next(it, None)
    if header is None:
        raise ValidationError(S("Errors", "The file is empty."))
    columns = [_canonical(str(h or ""), known) for h in header]
    _require_known(columns)

    def rows() -> Iterator[Row]:
        make = _RowMaker(columns)
        for number, values in enumerate(it, start=2):
            row = make(number, ["" if v is None else _cell_text(v) for v in values])
            if row is not None:
                yield row
        book.close()

    return Table([c for c in columns if c], rows(), max(0, (sheet.max_row or 0) - 1))


def _cell_text(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if value.time() != dt.time(0) else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def write_table(path: Path, columns: Sequence[str], rows: Iterator[Sequence[object]]) -> int:
    """Write a CSV (UTF-8 with BOM, so Excel on a Chinese Windows opens it right) or XLSX; returns rows written."""
    count = 0
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(list(columns))
        for row in rows:
            sheet.append([_text_cell(sheet, v) if isinstance(v, str) else v for v in row])
            count += 1
        book.save(path)
        return count
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if v is None else _csv_cell(v) for v in row])
            count += 1
    return count


def _text_cell(sheet: Any, value: str) -> Any:
    """A cell Excel shows as the text it holds: never a number in scientific notation, never a formula."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    cell.number_format = "@"
    return cell


def _csv_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unquote_formula(text: str) -> str:
    """A cell as it was before export quoted it (`'=1+1` back to `=1+1`)."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text
