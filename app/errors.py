"""Errors a cashier may see. Each carries an English message marked for translation and its parameters; `str()`
gives the translated, formatted text. Anything else that escapes a service is a bug: logged and shown as such."""

from __future__ import annotations

from typing import Any, TypeVar

from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate

CONTEXT = "Errors"


class MemberDeskError(Exception):
    """A refusal the user can act on (bad input, not allowed, not found, conflict). Nothing was changed."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params

    def __reduce__(self) -> tuple[Any, ...]:
        """Whole across processes (a job's own, app/child_process.py), whatever a subclass's `__init__` takes."""
        return (_restored, (type(self), self.args, self.__dict__))

    def __str__(self) -> str:
        text, params = translate(CONTEXT, self.message), self._shown_params()
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return self.message.format(**params)

    @property
    def english(self) -> str:
        return self.message.format(**self._shown_params())

    def _shown_params(self) -> dict[str, Any]:
        """Whole numbers with thousands separators, as everywhere else on screen ("可用 6,426", not "6426")."""
        return {
            key: f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else value
            for key, value in self.params.items()
        }


E = TypeVar("E", bound=MemberDeskError)


def _restored(kind: type[E], args: tuple[Any, ...], state: dict[str, Any]) -> E:
    error = kind.__new__(kind)
    error.args = args
    error.__dict__.update(state)
    return error


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
