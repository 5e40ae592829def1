"""`python main.py self-test`: the whole program exercised headless, so a counter PC (or CI, or a freshly built
bundle) can prove it works without anyone at the screen. Exit 0, or 1 with the reasons on stderr."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

WINDOW_PNG = "selftest-window.png"
SELFTEST_PDF = "selftest.pdf"


def run_self_test(data_dir: Path, database: str | None, lang: str | None) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    problems: list[str] = []
    store = None
    app = None

    def step(name: str, work: Callable[[], list[str] | None]) -> None:
        try:
            found = work() or []
        except Exception as exc:  # a self-test reports every failure as a reason, never a crash
            found = [f"{type(exc).__name__}: {exc}"]
            traceback.print_exc(file=sys.stderr)
        status = "ok" if not found else "FAILED"
        print(f"self-test: {name}: {status}")
        problems.extend(f"{name}: {p}" for p in found)

    from PySide6.QtWidgets import QApplication

    from app.context import Store
    from app.printing.selftest import write_selftest_pdf
    from ui.application import build_main_window, configure_application
    from ui.selftest import check_pdf, grab_window_png
    from ui.tasks import SyncTaskRunner

    def open_store() -> list[str]:
        nonlocal store
        store = Store.open(data_dir, database)
        return store.check()

    step("database", open_store)
    if store is None:
        return _finish(problems)
    services = store.services(store.operator())
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    configure_application(app, lang or "zh_CN")

    def window() -> list[str]:
        main = build_main_window(services, SyncTaskRunner(app))
        main.resize(1280, 800)
        main.show()
        app.processEvents()
        found = grab_window_png(main, data_dir / WINDOW_PNG)
        main.close()
        return found

    def pdf() -> list[str]:
        path = data_dir / SELFTEST_PDF
        page = write_selftest_pdf(path)
        return check_pdf(path, page.texts)

    step("main window", window)
    step("PDF", pdf)
    store.close()
    return _finish(problems)


def _finish(problems: list[str]) -> int:
    for problem in problems:
        print(f"self-test problem: {problem}", file=sys.stderr)
    print("self-test: OK" if not problems else "self-test: FAILED")
    return 1 if problems else 0
