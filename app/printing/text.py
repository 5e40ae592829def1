"""Line breaking for Chinese and mixed text, measured in the PDF font.

ReportLab's own wrapping (Paragraph) breaks only at spaces, so a Chinese name or a long line with no spaces runs off the
paper. Here any CJK character is a break point, Latin words and numbers stay whole unless they alone are too wide, and
closing punctuation never starts a line (nor opening punctuation ends one), as Chinese typesetting expects.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from reportlab.pdfbase.pdfmetrics import stringWidth

NO_LINE_START = frozenset("，。、；：？！）》」』】〕〉’”…—～·・%,.;:!?)]}")
NO_LINE_END = frozenset("（《「『【〔〈‘“([{")
BREAK_AFTER = frozenset("·・")  # the dot between the parts of a transliterated name


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _tokens(paragraph: str) -> list[str]:
    """Units that may not be split across lines: a CJK character, a Latin word, or a run of spaces, with punctuation
    glued to the neighbour it belongs with."""
    tokens: list[str] = []
    glue_next = False
    for char in paragraph:
        previous = tokens[-1][-1] if tokens else ""
        in_word = (
            previous
            and not char.isspace()
            and not _is_wide(char)
            and not previous.isspace()
            and not _is_wide(previous)
            and previous not in BREAK_AFTER
        )
        if char in NO_LINE_START and previous.isspace() and len(tokens) > 1:
            spaces = tokens.pop()
            tokens[-1] += spaces + char
        elif (
            (glue_next and not char.isspace())
            or in_word
            or (previous and char in NO_LINE_START)
            or (char.isspace() and previous.isspace())
        ):
            tokens[-1] += char
        else:
            tokens.append(char)
        glue_next = char in NO_LINE_END
    return tokens


def _split_to_width(token: str, font: str, size: float, width: float) -> list[str]:
    """A single unit wider than the line (a long card number, a URL), cut by characters."""
    pieces: list[str] = []
    piece = ""
    for char in token:
        if piece and stringWidth(piece + char, font, size) > width:
            if char in NO_LINE_START and len(piece) > 1:
                pieces.append(piece[:-1])  # take a character along so the punctuation does not start the line
                piece = piece[-1] + char
            else:
                pieces.append(piece)
                piece = char
        else:
            piece += char
    pieces.append(piece)
    return pieces


def wrap_text(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of `text` that each fit `width` points; explicit newlines are kept, an empty text gives one empty line."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for token in _tokens(paragraph):
            if token.isspace():
                if line:
                    line += token
                continue
            candidate = line + token
            if stringWidth(candidate, font, size) <= width:
                line = candidate
                continue
            if line.strip():
                lines.append(line.rstrip())
            pieces = _split_to_width(token, font, size, width)
            lines.extend(pieces[:-1])
            line = pieces[-1]
        lines.append(line.rstrip())
    return lines


def wrap_balanced(text: str, font: str, size: float, width: float) -> list[str]:
    """Like wrap_text, but lines of even length: a centred heading that wraps should not leave one character alone
    on its last line."""
    lines = wrap_text(text, font, size, width)
    if len(lines) < 2:
        return lines
    narrow, wide = 0.0, width
    while wide - narrow > 1:
        middle = (narrow + wide) / 2
        if len(wrap_text(text, font, size, middle)) > len(lines):
            narrow = middle
        else:
            wide = middle
    return wrap_text(text, font, size, wide)


@dataclass(frozen=True)
class FittedText:
    lines: list[str]
    size: float
    leading: float

    @property
    def height(self) -> float:
        return len(self.lines) * self.leading


LEADING = 1.25


def fit_text(text: str, font: str, width: float, height: float, max_size: float, min_size: float) -> FittedText | None:
    """The largest size (in half points) at which `text`, wrapped, fits the box; None if not even `min_size` does.

    For fixed-size pieces like a card, where a long name must shrink rather than push the barcode off.
    """
    size = max_size
    while size >= min_size:
        lines = wrap_text(text, font, size, width)
        fitted = FittedText(lines, size, size * LEADING)
        if fitted.height <= height:
            return fitted
        size -= 0.5
    return None
