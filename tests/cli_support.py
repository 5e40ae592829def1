"""The command line driven in the test's own process, on the store a test built (its data folder and its database,
SQLite or PostgreSQL): `run("privacy", "notice", "--out", …)` gives the exit code, stdout and stderr."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest

import main
from app import i18n
from app.context import Store

__all__ = ["Run", "run"]

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(store: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    """`main.main` on the fixture's store; `as_user`/`pin` sign in as that account (PIN from $MEMBERDESK_PIN)."""
    url = store.db.url.render_as_string(hide_password=False)
    logger = logging.getLogger("memberdesk")
    handlers = list(logger.handlers)
    language = i18n._translator

    def command(*args: str, as_user: str | None = None, pin: str | None = None) -> tuple[int, str, str]:
        if pin is not None:
            monkeypatch.setenv(main.PIN_ENV, pin)
        signed = ["--as", as_user] if as_user else []
        try:
            code = main.main([*args, *signed, "--data-dir", str(store.paths.root), "--database", url])
        except SystemExit as exc:  # argparse refusing an option it cannot read
            code = int(exc.code or 0)
        finally:  # a command given --lang zh_CN (or printing coupons) puts the whole process into Chinese
            i18n.set_translator(language)
        out = capsys.readouterr()
        return code, out.out, out.err

    yield command
    for handler in logger.handlers[len(handlers) :]:  # the command's log handlers point into this test's folder
        logger.removeHandler(handler)
        handler.close()
