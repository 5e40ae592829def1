"""Printed survey forms: A4, Chinese, as many forms to a sheet as fit, each with its number in text and as a QR code
(and the member's card number when printed for a member), and clear boxes to tick.

The questions are the same on every form of a batch, so they are drawn once into a PDF form XObject and placed on
every form; only the number, its QR code and the card number are drawn per form. That keeps 500 forms well inside
the three seconds DESIGN.md §7 allows and the file small.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.care.questions import Question, QuestionKind
from app.care.surveys import FormBatch
from app.errors import ValidationError
from app.i18n import QT_TRANSLATE_NOOP
from app.printing.barcodes import QrSymbol
from app.printing.fonts import regular_font
from app.printing.pdf import ascent, draw_text, open_canvas, text_width
from app.printing.text import wrap_text

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 10 * mm
FORM_WIDTH = PAGE_WIDTH - 2 * MARGIN
PAD = 4 * mm
INNER = FORM_WIDTH - 2 * PAD
GAP = 8 * mm  # between forms on a sheet, with the cutting line in its middle
MAX_PER_PAGE = 4
QR_MODULE = 0.6 * mm  # 3.5 pixels at 150 dpi: zbar reads it from a plain render
HEADER = 19 * mm
TITLE_SIZE = 13
STORE_SIZE = 9
TEXT_SIZE = 9
SMALL_SIZE = 7.5
LINE = 5.2 * mm
BOX = 3.2 * mm
MUTED = Color(0.35, 0.35, 0.35)
RULE = Color(0.6, 0.6, 0.6)
FORM_NAME = "surveyQuestions"

DOES_NOT_FIT = QT_TRANSLATE_NOOP("Printing", "The survey is too long to fit on one A4 page; shorten it.")


@dataclass(frozen=True)
class FormWords:
    """The words printed around the questions. A form speaks its customers' language (the template's), not the
    language of the operator who prints it, so these are not the GUI's translations."""

    form_no: str
    card: str
    rating_hint: str
    nps_hint: str


CHINESE = FormWords(
    "问卷编号", "会员卡号", "评分：1 = 很不满意 … 5 = 很满意，每行勾选一格。", "0 = 完全不可能，10 = 非常可能"
)
ENGLISH = FormWords(
    "Form no.",
    "Member card",
    "1 = very unhappy … 5 = very happy; tick one box per line.",
    "0 = not at all likely, 10 = extremely likely",
)

Draw = Callable[[Canvas, float], None]
"""Draws one block with its top at the given height (form coordinates: x from the form's inner left edge)."""


@dataclass(frozen=True)
class SheetLayout:
    form_height: float
    per_page: int
    pages: int


def _box(canvas: Canvas, x: float, baseline: float) -> None:
    canvas.rect(x, baseline - 0.6 * mm, BOX, BOX, stroke=1, fill=0)


def _boxes(canvas: Canvas, labels: list[str], x: float, baseline: float, step: float) -> None:
    for index, label in enumerate(labels):
        left = x + index * step
        _box(canvas, left, baseline)
        draw_text(canvas, label, left + BOX + 1 * mm, baseline, TEXT_SIZE)


class _Blocks:
    """The questions laid out top to bottom: each block knows its height before anything is drawn."""

    def __init__(self) -> None:
        self.blocks: list[tuple[float, Draw]] = []

    @property
    def height(self) -> float:
        return sum(height for height, _ in self.blocks)

    def add(self, height: float, draw: Draw) -> None:
        self.blocks.append((height, draw))

    def lines(self, text: str, size: float, width: float, x: float = 0, color: Color | None = None) -> None:
        for line in wrap_text(text, regular_font(), size, width):
            self.add(size * 1.45, self._line(line, x, size, color))

    @staticmethod
    def _line(text: str, x: float, size: float, color: Color | None) -> Draw:
        def draw(canvas: Canvas, top: float) -> None:
            if color is None:
                draw_text(canvas, text, x, top - ascent(size), size)
            else:
                draw_text(canvas, text, x, top - ascent(size), size, color=color)

        return draw


def _question(blocks: _Blocks, number: int, question: Question, words: FormWords) -> None:
    label = f"{number}. {question.text}"
    if question.kind == QuestionKind.RATING:
        scale_width = 5 * 11 * mm
        text_space = INNER - scale_width - 2 * mm
        lines = wrap_text(label, regular_font(), TEXT_SIZE, text_space)

        def rating(canvas: Canvas, top: float) -> None:
            baseline = top - ascent(TEXT_SIZE) - 0.8 * mm
            for index, line in enumerate(lines):
                draw_text(canvas, line, 0, baseline - index * TEXT_SIZE * 1.4, TEXT_SIZE)
            _boxes(canvas, [str(n) for n in range(1, 6)], INNER - scale_width, baseline, 11 * mm)

        blocks.add(max(LINE, len(lines) * TEXT_SIZE * 1.4 + 1.6 * mm), rating)
        return
    blocks.lines(label, TEXT_SIZE, INNER)
    if question.kind == QuestionKind.NPS:
        blocks.add(
            LINE,
            lambda c, top: _boxes(c, [str(n) for n in range(11)], 4 * mm, top - ascent(TEXT_SIZE) - 0.8 * mm, 11 * mm),
        )
        blocks.lines(words.nps_hint, SMALL_SIZE, INNER, x=4 * mm, color=MUTED)
    elif question.kind in (QuestionKind.SINGLE, QuestionKind.MULTI):
        labels = [f"{letter} {choice.text}" for letter, choice in zip(question.letters, question.choices, strict=True)]
        widths = [BOX + 1 * mm + text_width(text, TEXT_SIZE) + 5 * mm for text in labels]
        row: list[str] = []
        used = 4 * mm
        rows: list[list[str]] = []
        for text, width in zip(labels, widths, strict=True):
            if row and used + width > INNER:
                rows.append(row)
                row, used = [], 4 * mm
            row.append(text)
            used += width
        rows.append(row)
        for items in rows:
            blocks.add(LINE, _choice_row(items))
    else:
        for _ in range(2):
            blocks.add(LINE + 1 * mm, _ruled_line)
    blocks.add(1 * mm, lambda c, top: None)


def _choice_row(items: list[str]) -> Draw:
    def draw(canvas: Canvas, top: float) -> None:
        x = 4 * mm
        baseline = top - ascent(TEXT_SIZE) - 0.8 * mm
        for text in items:
            _box(canvas, x, baseline)
            draw_text(canvas, text, x + BOX + 1 * mm, baseline, TEXT_SIZE)
            x += BOX + 1 * mm + text_width(text, TEXT_SIZE) + 5 * mm

    return draw


def _ruled_line(canvas: Canvas, top: float) -> None:
    canvas.saveState()
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.4)
    y = top - LINE
    canvas.line(4 * mm, y, INNER, y)
    canvas.restoreState()


def _layout(batch: FormBatch, words: FormWords) -> _Blocks:
    blocks = _Blocks()
    if batch.template.description:
        blocks.lines(batch.template.description, SMALL_SIZE, INNER, color=MUTED)
    if any(q.kind == QuestionKind.RATING for q in batch.template.questions):
        blocks.lines(words.rating_hint, SMALL_SIZE, INNER, color=MUTED)
    blocks.add(1.5 * mm, lambda c, top: None)
    for number, question in enumerate(batch.template.questions, start=1):
        _question(blocks, number, question, words)
    return blocks


def plan(batch: FormBatch, words: FormWords = CHINESE) -> tuple[_Blocks, SheetLayout]:
    blocks = _layout(batch, words)
    form_height = HEADER + blocks.height + 2 * PAD
    usable = PAGE_HEIGHT - 2 * MARGIN
    per_page = min(MAX_PER_PAGE, int((usable + GAP) // (form_height + GAP)))
    if per_page < 1:
        raise ValidationError(DOES_NOT_FIT, field="questions")
    pages = -(-len(batch.forms) // per_page)
    return blocks, SheetLayout(form_height, per_page, pages)


def write_survey_forms(batch: FormBatch, path: str | Path, words: FormWords = CHINESE) -> SheetLayout:
    blocks, layout = plan(batch, words)
    canvas = open_canvas(path, A4, f"{batch.template.title} {batch.batch}")
    _draw_static(canvas, batch, blocks, layout.form_height)
    for index, form in enumerate(batch.forms):
        slot = index % layout.per_page
        if index and slot == 0:
            canvas.showPage()
        top = PAGE_HEIGHT - MARGIN - slot * (layout.form_height + GAP)
        bottom = top - layout.form_height
        canvas.saveState()
        canvas.translate(MARGIN, bottom)
        canvas.doForm(FORM_NAME)
        canvas.restoreState()
        symbol = QrSymbol.encode(form.form_no)
        side = symbol.side(QR_MODULE)
        right = MARGIN + FORM_WIDTH - PAD + 2.4 * mm  # the quiet zone may reach into the padding
        symbol.draw(canvas, right - side, top - PAD - side + 2.4 * mm, QR_MODULE)
        text_right = right - side - 1 * mm
        draw_text(
            canvas,
            f"{words.form_no} {form.form_no}",
            text_right,
            top - PAD - ascent(TEXT_SIZE),
            TEXT_SIZE,
            align="right",
        )
        if form.card_no:
            draw_text(
                canvas,
                f"{words.card} {form.card_no}",
                text_right,
                top - PAD - ascent(TEXT_SIZE) - 5 * mm,
                TEXT_SIZE,
                align="right",
            )
        if slot < layout.per_page - 1 and index < len(batch.forms) - 1:
            _cut_line(canvas, bottom - GAP / 2)
    canvas.save()
    return layout


def _draw_static(canvas: Canvas, batch: FormBatch, blocks: _Blocks, height: float) -> None:
    """The frame, store name, title and questions, once, as a form XObject placed on every form."""
    canvas.beginForm(FORM_NAME, lowerx=0, lowery=0, upperx=FORM_WIDTH, uppery=height)
    canvas.saveState()
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.6)
    canvas.roundRect(0, 0, FORM_WIDTH, height, 2 * mm, stroke=1, fill=0)
    canvas.restoreState()
    top = height - PAD
    draw_text(canvas, batch.store_name, PAD, top - ascent(STORE_SIZE), STORE_SIZE, color=MUTED)
    title_lines = wrap_text(batch.template.title, regular_font(), TITLE_SIZE, INNER - 70 * mm)
    for index, line in enumerate(title_lines[:2]):
        draw_text(
            canvas, line, PAD, top - 5 * mm - ascent(TITLE_SIZE) - index * TITLE_SIZE * 1.3, TITLE_SIZE, bold=True
        )
    canvas.saveState()
    canvas.translate(PAD, 0)
    y = height - PAD - HEADER
    canvas.setLineWidth(0.5)
    for block_height, draw in blocks.blocks:
        draw(canvas, y)
        y -= block_height
    canvas.restoreState()
    canvas.endForm()


def _cut_line(canvas: Canvas, y: float) -> None:
    canvas.saveState()
    canvas.setStrokeColor(RULE)
    canvas.setDash(3, 3)
    canvas.setLineWidth(0.5)
    canvas.line(MARGIN, y, PAGE_WIDTH - MARGIN, y)
    canvas.restoreState()
