"""Per-machine settings (Picard's options / Electrum's ConfigVar, in small): one typed registry, kept in an ini file
in the data folder. Store-wide settings live in the database (app.settings); these are only what belongs to this PC:
its language, who last worked at it, where its window sits, and the width of its receipt printer's paper."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QWidget

T = TypeVar("T", str, bool, int)

FILE_NAME = "memberdesk-local.ini"
LANGUAGES = ("zh_CN", "en")
SLIP_WIDTHS_MM = (80, 58)
"""The roll paper widths app.printing.slip lays out."""


@dataclass(frozen=True)
class LocalSetting(Generic[T]):
    key: str
    default: T


LANGUAGE = LocalSetting("ui/language", "zh_CN")
LAST_USERNAME = LocalSetting("staff/last_username", "")
SLIP_WIDTH_MM = LocalSetting("printing/slip_width_mm", SLIP_WIDTHS_MM[0])
IDLE_LOCK_MINUTES = LocalSetting("security/idle_lock_minutes", 10)
IDLE_LOCK_CHOICES = (1, 3, 5, 10, 15, 30)
"""Minutes without a key or a click before the counter asks for the PIN again; never off."""
_WINDOW_GEOMETRY = "window/geometry"


class LocalSettings:
    def __init__(self, data_dir: Path) -> None:
        self._qsettings = QSettings(str(data_dir / FILE_NAME), QSettings.Format.IniFormat)

    def get(self, setting: LocalSetting[T]) -> T:
        """The stored value converted to the setting's type; anything unreadable falls back to the default."""
        value, default = self._qsettings.value(setting.key, setting.default), setting.default
        if isinstance(default, bool):  # the ini format stores every value as text
            return value if isinstance(value, bool) else str(value).lower() == "true"
        if isinstance(default, int):
            try:
                return int(str(value))
            except ValueError:
                return default
        return str(value)

    def set(self, setting: LocalSetting[T], value: T) -> None:
        self._qsettings.setValue(setting.key, value)
        self._qsettings.sync()

    def language(self) -> str:
        value = self.get(LANGUAGE)
        return value if value in LANGUAGES else LANGUAGE.default

    def slip_width_mm(self) -> int:
        """The receipt paper of this PC's printer; a value edited by hand to a width we cannot lay out is ignored."""
        value = self.get(SLIP_WIDTH_MM)
        return value if value in SLIP_WIDTHS_MM else SLIP_WIDTH_MM.default

    def idle_lock_minutes(self) -> int:
        value = self.get(IDLE_LOCK_MINUTES)
        return value if value in IDLE_LOCK_CHOICES else IDLE_LOCK_MINUTES.default

    def save_geometry(self, window: QWidget) -> None:
        """The one place window geometry is saved, so every window restores the same way."""
        self._qsettings.setValue(_WINDOW_GEOMETRY, window.saveGeometry())
        self._qsettings.sync()

    def restore_geometry(self, window: QWidget) -> bool:
        value = self._qsettings.value(_WINDOW_GEOMETRY)
        return isinstance(value, QByteArray) and window.restoreGeometry(value)
