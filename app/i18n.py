"""Translation hook for the Qt-free core.

`app/` marks user-facing text with `QT_TRANSLATE_NOOP(context, text)` so Qt Linguist's lupdate collects it, and
translates at display time through the function the GUI installs (`QCoreApplication.translate`). The command line
installs the same Qt translator when Qt is available, else messages stay in English.
"""

from __future__ import annotations

from collections.abc import Callable

Translator = Callable[[str, str], str]

_translator: Translator = lambda _context, text: text  # noqa: E731


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:
    return text


def set_translator(translator: Translator) -> None:
    global _translator
    _translator = translator


def translate(context: str, text: str) -> str:
    return _translator(context, text)
