"""Where MemberDesk keeps its data, and whether a folder can hold a store.

The data folder is, in this order: `--data-dir`; a `data` folder beside the executable when a `portable.txt` lies
there (portable mode); the machine's folder (`%PROGRAMDATA%\\MemberDesk`) when the installer installed for all users
and left `all-users.txt` beside the executable; else the user's own folder (`%LOCALAPPDATA%\\MemberDesk`,
`~/.local/share/MemberDesk`). The choice is a pure function of the environment so tests can play Windows on Linux.
"""

from __future__ import annotations

import ntpath
import os
import sys
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath

import platformdirs

from app.errors import MemberDeskError
from app.i18n import QT_TRANSLATE_NOOP as S
from db.location import SQLITE_FILENAME, saved_database_url

APP_NAME = "MemberDesk"
PORTABLE_MARKER = "portable.txt"
ALL_USERS_MARKER = "all-users.txt"
"""Written beside the executable by an all-users (per-machine) install: every account of the PC shares one store."""
IS_WINDOWS = sys.platform == "win32"
WINDOWS_MAX_PATH = 260
"""A file path Windows programs can open without the long-path opt-in (which needs a registry change)."""
LONGEST_INSIDE = len("backups\\memberdesk-before-0000-20261129-235959.sqlite3-journal") + 20
"""Room kept for the longest file MemberDesk makes inside its data folder (a backup's journal, with a margin)."""
REMOTE_FILESYSTEMS = frozenset({"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "9p", "afs", "ceph"})

NETWORK_FOLDER = S(
    "Errors",
    "The data folder {path} is on a network drive. A store file shared over a network gets damaged when two "
    "counters write it: keep the data folder on this PC's own disk, or let the counters of a chain share a "
    "PostgreSQL server (--database).",
)
PATH_TOO_LONG = S(
    "Errors",
    "The data folder's path is {length} characters long, too long for Windows (at most {limit}, with room for the "
    "files inside). Choose a shorter folder with --data-dir, e.g. D:\\MemberDesk.",
)
FOLDER_UNWRITABLE = S(
    "Errors",
    "The data folder {path} cannot be written ({reason}). Start MemberDesk with --data-dir and a folder this "
    "account may write, or ask the PC's administrator for access to it.",
)
PORTABLE_READ_ONLY = S(
    "Errors",
    "This is a portable copy of MemberDesk (portable.txt lies beside it), but its folder {path} cannot be written: "
    "folders under Program Files are read-only for programs. Copy the MemberDesk folder somewhere writable (e.g. "
    "D:\\MemberDesk), or install it with the installer and remove portable.txt.",
)


class DataFolderError(MemberDeskError):
    """The data folder cannot hold a store: where it is, how long its path is, or who may write it."""


@dataclass(frozen=True)
class Machine:
    """What the data folder's choice depends on; `Machine.this()` is the real one, tests build Windows ones."""

    windows: bool
    environ: Mapping[str, str]
    executable: PurePath | None
    """The bundled program, or None when run from source."""
    exists: Callable[[PurePath], bool]

    @classmethod
    def this(cls) -> Machine:
        frozen = getattr(sys, "frozen", False)
        return cls(IS_WINDOWS, os.environ, Path(sys.executable).resolve() if frozen else None, _exists)

    def path(self, text: str) -> PurePath:
        return PureWindowsPath(text) if self.windows else PurePosixPath(text)


def _exists(path: PurePath) -> bool:
    return Path(path).exists()


def choose_data_dir(machine: Machine) -> tuple[PurePath, bool]:
    """The data folder for this machine and whether it is a portable copy's (see the module's docstring)."""
    if machine.executable is not None:
        exe_dir = machine.executable.parent
        if machine.exists(exe_dir / PORTABLE_MARKER):
            return exe_dir / "data", True
    env = machine.environ.get("MEMBERDESK_DATA_DIR")
    if env:
        return machine.path(env), False
    all_users = machine.executable is not None and machine.exists(machine.executable.parent / ALL_USERS_MARKER)
    if machine.windows:
        if all_users:
            return machine.path(machine.environ.get("PROGRAMDATA", "C:\\ProgramData")) / APP_NAME, False
        home = machine.environ.get("USERPROFILE", "C:\\Users\\Default")
        return machine.path(machine.environ.get("LOCALAPPDATA", f"{home}\\AppData\\Local")) / APP_NAME, False
    if all_users:
        return PurePosixPath(platformdirs.site_data_dir(APP_NAME, appauthor=False)), False
    return PurePosixPath(platformdirs.user_data_dir(APP_NAME, appauthor=False)), False


def default_data_dir(machine: Machine | None = None) -> Path:
    """The data folder when no --data-dir is given. A portable copy whose folder cannot be written is refused here,
    before anything (the log included) tries to write into it."""
    folder, portable = choose_data_dir(machine or Machine.this())
    path = Path(folder)
    if portable:
        try:
            probe_writable(path)
        except DataFolderError:
            raise DataFolderError(PORTABLE_READ_ONLY, path=str(path.parent)) from None
    return path


def needs_first_run(data_dir: Path, database: str | None) -> bool:
    """A PC with no store yet: no `--database`, no saved server address and no store file in the data folder. Asked
    before the window is built, so it loads no database library."""
    return not database and saved_database_url(data_dir) is None and not (data_dir / SQLITE_FILENAME).exists()


def probe_writable(folder: Path) -> None:
    """Create the folder if needed and a file in it, or say plainly why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{uuid.uuid4().hex}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise unwritable(folder, exc) from exc


def unwritable(folder: Path, exc: OSError) -> DataFolderError:
    if is_path_too_long(exc):
        return DataFolderError(PATH_TOO_LONG, length=len(str(folder)), limit=WINDOWS_MAX_PATH - LONGEST_INSIDE)
    return DataFolderError(FOLDER_UNWRITABLE, path=str(folder), reason=exc.strerror or type(exc).__name__)


def is_path_too_long(exc: OSError) -> bool:
    """ENAMETOOLONG, or Windows' ERROR_FILENAME_EXCED_RANGE (206) / ERROR_PATH_NOT_FOUND on a long path (3)."""
    import errno

    winerror = getattr(exc, "winerror", None)
    return exc.errno == errno.ENAMETOOLONG or winerror == 206


def is_network_path(path: str, *, windows: bool = IS_WINDOWS) -> bool:
    """A UNC path (`\\\\server\\share\\…`, `\\\\?\\UNC\\…`, `//server/share`) as Windows reads it."""
    if not windows:
        return path.startswith("//") and not path.startswith("///")
    drive = ntpath.splitdrive(path)[0]
    if drive.upper().startswith(("\\\\?\\UNC\\", "//?/UNC/")):
        return True
    return drive.startswith(("\\\\", "//")) and not drive.startswith(("\\\\?\\", "\\\\.\\"))


def is_remote_drive(path: str) -> bool:
    """The folder lies on a network file system: a mapped drive letter on Windows, an NFS/SMB/SSHFS mount on Linux."""
    if IS_WINDOWS:
        import ctypes

        drive = ntpath.splitdrive(os.path.abspath(path))[0]
        drive_remote = 4
        return bool(drive) and ctypes.windll.kernel32.GetDriveTypeW(drive + "\\") == drive_remote  # type: ignore[attr-defined,unused-ignore]
    return _mount_type(Path(path)) in REMOTE_FILESYSTEMS


def _mount_type(path: Path) -> str:
    """The file system type of the mount holding `path` (the longest mount point that is a prefix of it)."""
    try:
        mounts = Path("/proc/mounts").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    target = str(path.resolve())
    best, kind = "", ""
    for line in mounts:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fields[2]
    return kind


def check_store_folder(
    folder: str, *, windows: bool = IS_WINDOWS, is_remote: Callable[[str], bool] = is_remote_drive
) -> None:
    """Refuse a folder an SQLite store must not live in: a network share (UNC or mapped drive) or, on Windows, a
    path so long that the files inside it could not be opened."""
    if is_network_path(folder, windows=windows) or is_remote(folder):
        raise DataFolderError(NETWORK_FOLDER, path=folder)
    limit = WINDOWS_MAX_PATH - LONGEST_INSIDE
    if windows and len(folder) > limit:
        raise DataFolderError(PATH_TOO_LONG, length=len(folder), limit=limit)


@dataclass(frozen=True)
class DataPaths:
    root: Path

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def key_file(self) -> Path:
        return self.root / "memberdesk.key"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    def ensure(self) -> DataPaths:
        """Create the folders; a folder that cannot be made says so in words, not with a traceback."""
        for folder in (self.root, self.backups, self.logs, self.exports):
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise unwritable(folder, exc) from exc
        probe_writable(self.root)
        return self


def resource_path(*parts: str) -> Path:
    """A file under resources/, in a source checkout and in a PyInstaller bundle alike."""
    base = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parent.parent))
    return base.joinpath("resources", *parts)
