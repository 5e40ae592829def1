"""The one font every PDF uses: the CJK TrueType font shipped in resources/, embedded as a subset.

ReportLab's built-in CID fonts (STSong-Light) are never embedded, so a till or a phone without Chinese fonts shows
boxes; the standard Latin fonts are not embedded either. Using one embedded font for all text, digits included, means
every PDF looks the same on every viewer and printer driver.
"""

from __future__ import annotations

import threading

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from app.paths import resource_path

REGULAR = "MemberDesk-WQYMicroHei"
FONT_FILE = ("fonts", "wqy-microhei.ttc")

_lock = threading.Lock()
_registered = False


def regular_font() -> str:
    """The registered name of the CJK font, registering it on first use.

    Loading the .ttc takes ~0.1 s, which start-up should not pay; PDFs are made on worker threads, so two first uses
    may race.
    """
    global _registered
    if not _registered:
        with _lock:
            if not _registered:
                path = resource_path(*FONT_FILE)
                pdfmetrics.registerFont(TTFont(REGULAR, str(path), subfontIndex=0))
                _registered = True
    return REGULAR
