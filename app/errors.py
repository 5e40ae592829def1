"""Errors a cashier may see. Each carries an English message marked for translation and its parameters; `str()`
gives the translated, formatted text. Anything else that escapes a service is a bug: logged and shown as such."""

from __future__ import annotations

from typing import Any

from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate

CONTEXT = "Errors"


class MemberDeskError(Exception):
    """A refusal the user can act on (bad input, not allowed, not found, conflict). Nothing was changed."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params

    def __str__(self) -> str:
        text = translate(CONTEXT, self.message)
        try:
            return text.format(**self.params)
        except (KeyError, IndexError, ValueError):
            return self.message.format(**self.params)

    @property
    def english(self) -> str:
        return self.message.format(**self.params)


class ValidationError(MemberDeskError):
    """Bad input: a form field, an imported row, a scanned code."""

    def __init__(self, message: str, *, field: str | None = None, **params: Any) -> None:
        super().__init__(message, **params)
        self.field = field


class NotFoundError(MemberDeskError):
    pass


class ConflictError(MemberDeskError):
    """The change clashes with what is stored (duplicate phone, receipt already recorded with other figures…)."""

    def __init__(self, message: str, *, existing_id: int | None = None, **params: Any) -> None:
        super().__init__(message, **params)
        self.existing_id = existing_id


class PermissionDenied(MemberDeskError):
    pass


class InsufficientPoints(MemberDeskError):
    pass


class ServerUnreachable(MemberDeskError):
    """The shared database server is down, restarting or out of connections; nothing was changed that is not
    confirmed, and the same operation may be tried again."""

    def __init__(self) -> None:
        super().__init__(S("Errors", "The server cannot be reached right now — retrying. Please try again shortly."))


def outage_refusal(exc: BaseException) -> ServerUnreachable | None:
    """The cashier's message for an exception that means the server is unreachable, else None (a bug)."""
    from db.engine import is_server_unreachable  # here: the first screen must not wait for SQLAlchemy's import

    return ServerUnreachable() if is_server_unreachable(exc) else None
