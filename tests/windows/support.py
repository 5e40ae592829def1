"""Running the real program as a subprocess the way a Windows PC would meet it."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

NEEDS_FORK = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(),
    reason="needs os.fork: Windows has none (nor a run with MEMBERDESK_TEST_NO_FORK=1)",
)
NEEDS_TZSET = pytest.mark.skipif(
    not hasattr(time, "tzset"), reason="moves the PC's zone with TZ and time.tzset(), which Windows lacks"
)


def run_main(
    *args: str, env: dict[str, str] | None = None, as_nobody: bool = False, timeout: float = 120
) -> subprocess.CompletedProcess[bytes]:
    """`main.py args` with bytes out (the test decodes them as the stream's code page). `as_nobody` runs it as an
    unprivileged user, so a folder without write permission is refused even when the tests run as root."""
    return _run([str(ROOT / "main.py"), *args], env, as_nobody, timeout)


def run_python(code: str, *, as_nobody: bool = False) -> subprocess.CompletedProcess[bytes]:
    return _run(["-c", code], None, as_nobody, 60)


def _run(
    args: list[str], env: dict[str, str] | None, as_nobody: bool, timeout: float
) -> subprocess.CompletedProcess[bytes]:
    prefix: list[str] = []
    if as_nobody and hasattr(os, "geteuid") and os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (util-linux) is needed to drop root for a permission test"
        prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    return subprocess.run(
        [*prefix, sys.executable, *args],
        capture_output=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})},
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )
