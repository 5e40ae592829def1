"""Console output that never fails on the stream's encoding.

A Chinese Windows console or a redirected file is code page 936 (GBK), which has no "¥" (U+00A5): printing a money
figure there raised UnicodeEncodeError after the work was done. Every character the stream cannot encode is written
as its nearest look-alike the stream has ("¥" as the fullwidth "￥" U+FFE5, which GBK has), else as "?".
"""

from __future__ import annotations

import codecs
import io
import sys

ERROR_HANDLER = "memberdesk-console"
LOOK_ALIKES = {"\u00a5": "\uffe5", "\u00d7": "x", "\u2026": "...", "\u2014": "-", "\u2192": "->"}
"""Characters our messages use that some console code pages lack, and what to write instead."""


def _replace_unencodable(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    replacement = []
    for char in error.object[error.start : error.end]:
        look_alike = LOOK_ALIKES.get(char, "?")
        try:
            look_alike.encode(error.encoding)
        except UnicodeEncodeError:
            look_alike = "?"
        replacement.append(look_alike)
    return "".join(replacement), error.end


codecs.register_error(ERROR_HANDLER, _replace_unencodable)


def make_console_safe() -> None:
    """Standard output and error keep their encoding but never raise on a character it lacks. A windowed program
    has no streams at all (None): nothing to do."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors=ERROR_HANDLER)
