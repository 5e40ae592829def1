"""Language set-up for the GUI: our translations and Qt's own, the default QLocale, and the hook that lets the
Qt-free core translate its messages. Chinese (zh_CN) is the default; English is the source language."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from app import i18n as core_i18n
from app.paths import resource_path

CHINESE = "zh_CN"
ENGLISH = "en"


class Translators:
    """The translators installed for one language; `remove()` goes back to English (tests switch languages)."""

    def __init__(self, app: QCoreApplication, lang: str) -> None:
        self.app = app
        self.lang = ENGLISH if lang == ENGLISH else CHINESE
        self._installed: list[QTranslator] = []
        if self.lang == CHINESE:
            for name, folder in (
                ("memberdesk_zh_CN", str(resource_path("translations"))),
                ("qtbase_zh_CN", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)),
            ):
                translator = QTranslator(app)
                if translator.load(name, folder):
                    app.installTranslator(translator)
                    self._installed.append(translator)
        QLocale.setDefault(QLocale("zh_CN") if self.lang == CHINESE else QLocale("en_US"))
        core_i18n.set_translator(QCoreApplication.translate)

    @property
    def loaded(self) -> bool:
        """Whether our own Chinese catalogue was found (False for English, where nothing needs loading)."""
        return any(t.language() == CHINESE for t in self._installed)

    def remove(self) -> None:
        for translator in self._installed:
            self.app.removeTranslator(translator)
        self._installed.clear()
        QLocale.setDefault(QLocale("en_US"))


def is_chinese() -> bool:
    return QLocale().language() == QLocale.Language.Chinese


def local_name(chinese: str, english: str | None) -> str:
    """A stored name that has both forms (tiers, categories, gifts), in the interface's language."""
    return chinese if is_chinese() or not english else english


def use_language_without_gui(lang: str) -> None:
    """The command line's messages (refusals, import reports) in Chinese when asked for: a QTranslator answers
    without any QCoreApplication, so no Qt application is started for a subcommand."""
    if lang != CHINESE:
        return
    translator = QTranslator()
    if translator.load(f"memberdesk_{CHINESE}", str(resource_path("translations"))):
        core_i18n.set_translator(lambda context, text: translator.translate(context, text) or text)
