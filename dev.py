#!/usr/bin/env python3
"""MemberDesk's two developer commands, on Linux and Windows alike:

    python3 dev.py run [app args]      the app (a demo store is made first when the store is empty)
    python3 dev.py test [pytest args]  ruff, format check, mypy, then pytest on SQLite and on PostgreSQL

Standard library only, because it has to work before the virtual environment exists: it creates `.venv`,
installs the project into it (again only when pyproject.toml changed) and, as root on Debian, the system
libraries that Qt, the printing tests and the PostgreSQL tests need. CI runs it through `.ci/run`.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
IS_WINDOWS = os.name == "nt"
VENV_PYTHON = VENV / ("Scripts/python.exe" if IS_WINDOWS else "bin/python")
DEPS_STAMP = VENV / ".memberdesk-deps.sha256"
EXTRAS = "test"

# Offscreen Qt, the CJK font, the PDF and barcode checks, PostgreSQL, a real window under Xvfb, and the tools
# PyInstaller needs on Linux (binutils). Kept in step with shared/PLATFORM.md.
APT_PACKAGES = (
    "libgl1",
    "libegl1",
    "libxkbcommon0",
    "libglib2.0-0",
    "libfontconfig1",
    "libdbus-1-3",
    "fonts-wqy-microhei",
    "poppler-utils",
    "zbar-tools",
    "postgresql",
    "xvfb",
    "xauth",
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-image0",
    "libxcb-keysyms1",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libxcb-xkb1",
    "libxkbcommon-x11-0",
    "binutils",
)

PG_URL_ENV = "MEMBERDESK_TEST_PG_URL"
PG_PORT = 5432  # only names the socket file: the server listens on no TCP address
PG_RAM_NEEDED = 2 * 1024**3  # tmpfs room for the cluster with its WAL capped by max_wal_size below

# `main.py` options that name the store; `run` passes them on to `demo` so it fills the store the app opens.
STORE_OPTIONS = ("--data-dir", "--database")
VALUE_OPTIONS = (*STORE_OPTIONS, "--lang")


class StepFailed(Exception):
    """A step failed; its message is the last thing the developer should read."""


def heading(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def call(cmd: Sequence[str | Path], **kwargs: Any) -> int:
    return subprocess.run([str(part) for part in cmd], check=False, **kwargs).returncode


def check(cmd: Sequence[str | Path], what: str, **kwargs: Any) -> None:
    code = call(cmd, **kwargs)
    if code != 0:
        raise StepFailed(f"{what} failed (exit code {code})")


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


# --- environment


def missing_apt_packages(packages: Sequence[str]) -> list[str]:
    """The packages dpkg does not list as fully installed (removed-but-configured ones count as missing)."""
    result = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package} ${Status}\n", *packages],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = result.stdout.splitlines()
    installed = {line.split()[0].split(":")[0] for line in lines if line.endswith(" install ok installed")}
    return [name for name in packages if name not in installed]


def ensure_system_packages() -> None:
    """As root on Debian, apt-get what the app and the tests need; a no-op elsewhere or when all are there."""
    if IS_WINDOWS or not sys.platform.startswith("linux") or not is_root() or not shutil.which("apt-get"):
        return
    packages = list(APT_PACKAGES)
    if importlib.util.find_spec("ensurepip") is None:
        # Debian's own python3 ships venv without pip until python3-venv is installed.
        packages.append(f"python3.{sys.version_info.minor}-venv")
    missing = missing_apt_packages(packages)
    if not missing:
        return
    heading(f"apt-get install {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    check(["apt-get", "update", "-q"], "apt-get update", env=env, stdin=subprocess.DEVNULL)
    check(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing],
        "apt-get install",
        env=env,
        stdin=subprocess.DEVNULL,
    )


def deps_fingerprint() -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    digest.update(f"[{EXTRAS}] {sys.version_info[:2]}".encode())
    return digest.hexdigest()


def ensure_venv() -> None:
    """Create `.venv` and install the project into it; skipped while pyproject.toml is as it was last time."""
    if not VENV_PYTHON.exists():
        heading(f"creating {VENV}")
        venv.EnvBuilder(with_pip=True, clear=VENV.exists()).create(VENV)
    fingerprint = deps_fingerprint()
    if DEPS_STAMP.exists() and DEPS_STAMP.read_text().strip() == fingerprint:
        return
    heading(f"pip install -e .[{EXTRAS}]")
    check([VENV_PYTHON, "-m", "pip", "install", "-e", f".[{EXTRAS}]"], "pip install", cwd=ROOT)
    DEPS_STAMP.write_text(fingerprint + "\n")


def prepare() -> None:
    ensure_system_packages()
    ensure_venv()


# --- run


def split_app_args(args: Sequence[str]) -> tuple[list[str], bool]:
    """The options that name the store, and whether the args start the GUI (no subcommand, no --help)."""
    store: list[str] = []
    starts_gui = True
    i = 0
    while i < len(args):
        arg = args[i]
        name = arg.split("=", 1)[0]
        takes_value = name in VALUE_OPTIONS and "=" not in arg
        if name in STORE_OPTIONS:
            store.extend(args[i : i + 2] if takes_value else [arg])
        elif not arg.startswith("-") or name in ("-h", "--help"):
            starts_gui = False
        i += 2 if takes_value else 1
    return store, starts_gui


def cmd_run(app_args: list[str]) -> int:
    prepare()
    store_args, starts_gui = split_app_args(app_args)
    if starts_gui:
        demo: list[str | Path] = [VENV_PYTHON, "main.py", *store_args, "demo", "--if-empty"]
        check(demo, "main.py demo --if-empty", cwd=ROOT)
    return call([VENV_PYTHON, "main.py", *app_args], cwd=ROOT)


# --- test


def find_pg_bindir() -> Path | None:
    """Debian keeps initdb and pg_ctl off PATH in /usr/lib/postgresql/<major>/bin; the newest major wins."""
    candidates = sorted(
        (Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).parent)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    return None


def pg_parent_dir() -> str:
    """Where the throwaway cluster goes: RAM when there is room, since every test copies a template database and
    on disk that costs ~0.4 s a test against ~0.03 s in tmpfs. Never root's TMPDIR, which `postgres` may not reach;
    and short, because unix socket paths are capped at ~100 bytes."""
    shm = Path("/dev/shm")
    if shm.is_dir() and shutil.disk_usage(shm).free >= PG_RAM_NEEDED:
        return str(shm)
    return "/tmp"


@contextlib.contextmanager
def postgres_server() -> Iterator[None]:
    """A throwaway PostgreSQL server on a unix socket for the test run, its URL in the environment.

    initdb refuses to run as root, so as root the server runs as the `postgres` user in a temp folder it owns.
    Durability and autovacuum are off: the data dies with the run, and the suite gets faster.
    """
    if os.environ.get(PG_URL_ENV):
        print(f"using the PostgreSQL server in {PG_URL_ENV}")
        yield
        return
    bindir = None if IS_WINDOWS else find_pg_bindir()
    if bindir is None:
        if os.environ.get("CI") and sys.platform.startswith("linux"):
            raise StepFailed("CI must test PostgreSQL, but initdb/pg_ctl are missing (apt package postgresql)")
        print(f"WARNING: no PostgreSQL binaries and no {PG_URL_ENV}: the PostgreSQL tests will be skipped")
        yield
        return

    as_user: list[str] = []
    owner: tuple[int, int] | None = None
    if is_root():
        import pwd  # POSIX only

        if not shutil.which("runuser"):
            raise StepFailed("running as root needs runuser (util-linux) to start PostgreSQL as `postgres`")
        entry = pwd.getpwnam("postgres")
        owner = (entry.pw_uid, entry.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]

    workdir = Path(tempfile.mkdtemp(prefix="memberdesk-pg-", dir=pg_parent_dir()))
    if owner is not None:
        os.chown(workdir, *owner)
    datadir = workdir / "data"
    pg_ctl = [*as_user, str(bindir / "pg_ctl"), "-D", str(datadir)]
    started = False
    try:
        heading(f"PostgreSQL from {bindir} on {workdir}")
        initdb = [*as_user, str(bindir / "initdb"), "-D", str(datadir), "-U", "postgres", "--auth=trust"]
        check(
            [*initdb, "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
            "initdb",
            cwd=workdir,
            stdout=subprocess.DEVNULL,
        )
        server_opts = (
            f"-k {workdir} -p {PG_PORT} -c listen_addresses='' "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c autovacuum=off "
            "-c max_wal_size=256MB"
        )
        started = True
        server_log = workdir / "server.log"
        if call([*pg_ctl, "-w", "-l", str(server_log), "-o", server_opts, "start"], cwd=workdir) != 0:
            # The folder goes when this fails, so show the server's own explanation now.
            print(server_log.read_text(errors="replace") if server_log.exists() else "", file=sys.stderr)
            raise StepFailed("pg_ctl start failed (server log above)")
        os.environ[PG_URL_ENV] = f"postgresql+psycopg://postgres@/postgres?host={workdir}&port={PG_PORT}"
        yield
    finally:
        os.environ.pop(PG_URL_ENV, None)
        if started:
            call([*pg_ctl, "-m", "immediate", "stop"], cwd=workdir, stdout=subprocess.DEVNULL)
        shutil.rmtree(workdir, ignore_errors=True)


def run_step(title: str, cmd: Sequence[str | Path]) -> None:
    heading(title)
    started = time.monotonic()
    check(cmd, title, cwd=ROOT)
    print(f"--- {title}: ok in {time.monotonic() - started:.1f} s", flush=True)


def cmd_test(pytest_args: list[str]) -> int:
    prepare()
    run_step("ruff check .", [VENV_PYTHON, "-m", "ruff", "check", "."])
    run_step("ruff format --check .", [VENV_PYTHON, "-m", "ruff", "format", "--check", "."])
    run_step("mypy", [VENV_PYTHON, "-m", "mypy"])
    # The counters run Windows: the Windows branches (ctypes.windll, msvcrt, spawn-only multiprocessing) type-check
    # on every machine, not only on the PC that meets them.
    other = "linux" if IS_WINDOWS else "win32"
    run_step(f"mypy --platform {other}", [VENV_PYTHON, "-m", "mypy", "--platform", other])
    with postgres_server():
        # Any non-zero exit fails the run, pytest's 5 ("no tests collected") included.
        run_step(" ".join(["pytest", *pytest_args]), [VENV_PYTHON, "-m", "pytest", *pytest_args])
    return 0


# --- entry point


def _terminate(signum: int, _frame: object) -> None:
    """Turn SIGTERM into an exception so the PostgreSQL server and its temp folder are cleaned up."""
    raise SystemExit(128 + signum)


USAGE = "usage: python3 dev.py run [main.py args] | python3 dev.py test [pytest args]"


def main(argv: Sequence[str]) -> int:
    if not argv or argv[0] not in ("run", "test"):
        print(USAGE, file=sys.stderr)
        print(__doc__, file=sys.stderr)
        return 2
    command, rest = argv[0], list(argv[1:])
    if not IS_WINDOWS:
        signal.signal(signal.SIGTERM, _terminate)
    started = time.monotonic()
    try:
        code = cmd_run(rest) if command == "run" else cmd_test(rest)
    except StepFailed as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    if command == "test":
        print(f"\nall checks passed in {time.monotonic() - started:.0f} s", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
