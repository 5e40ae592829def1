"""Findings 1, 7, 9 and 12: where the store may live, as Windows would see it, simulated on Linux."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path, PureWindowsPath

import pytest
from sqlalchemy.engine import make_url

from app.context import Store
from app.errors import MemberDeskError
from app.paths import (
    ALL_USERS_MARKER,
    PORTABLE_MARKER,
    DataFolderError,
    Machine,
    check_store_folder,
    choose_data_dir,
    is_network_path,
)
from app.storelock import StoreInUse
from db.engine import resolve_url, sqlite_url
from tests.windows.support import run_main, run_python

WINDOWS_ENV = {
    "LOCALAPPDATA": "C:\\Users\\收银员\\AppData\\Local",
    "PROGRAMDATA": "C:\\ProgramData",
    "USERPROFILE": "C:\\Users\\收银员",
}
EXE = PureWindowsPath("C:\\Program Files\\MemberDesk\\MemberDesk.exe")


def windows(files: set[str], *, exe: PureWindowsPath | None = EXE, env: dict[str, str] | None = None) -> Machine:
    return Machine(True, env or WINDOWS_ENV, exe, lambda path: str(path) in files)


@pytest.fixture(autouse=True)
def _no_leftover_log_handlers() -> Iterator[None]:
    yield
    for handler in logging.getLogger("memberdesk").handlers[:]:
        logging.getLogger("memberdesk").removeHandler(handler)
        handler.close()


# --- finding 1: network folders and a second writing program


@pytest.mark.parametrize(
    "path",
    [
        "\\\\server\\share\\MemberDesk",
        "//server/share/MemberDesk",
        "\\\\?\\UNC\\server\\share\\MemberDesk",
        "\\\\192.168.1.20\\收银\\data",
    ],
)
def test_a_unc_data_folder_is_refused_for_the_sqlite_store(path: str) -> None:
    assert is_network_path(path, windows=True)
    with pytest.raises(DataFolderError, match="network drive"):
        check_store_folder(path, windows=True, is_remote=lambda _p: False)


@pytest.mark.parametrize("path", ["D:\\MemberDesk", "C:\\Users\\收银员\\AppData\\Local\\MemberDesk", "\\\\?\\D:\\x"])
def test_a_local_drive_is_accepted(path: str) -> None:
    assert not is_network_path(path, windows=True)
    check_store_folder(path, windows=True, is_remote=lambda _p: False)


def test_a_mapped_network_drive_is_refused() -> None:
    with pytest.raises(DataFolderError, match="network drive"):
        check_store_folder("Z:\\MemberDesk", windows=True, is_remote=lambda p: p.startswith("Z:"))


def test_the_program_refuses_a_unc_looking_data_dir(tmp_path: Path) -> None:
    """On Linux `//server/share` is what a UNC path looks like once mounted by name; the store is not opened."""
    result = run_main("--data-dir", "//server/share/MemberDesk", "db", "check")
    assert result.returncode == 1
    assert "network drive" in result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()


def test_a_second_program_is_refused_and_told_who_holds_the_store(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    try:
        result = run_main("--data-dir", str(tmp_path), "db", "check")
    finally:
        store.close()
    err = result.stderr.decode()
    assert result.returncode == 1, err
    assert "already open in" in err and "process" in err and "on the PC" in err
    assert run_main("--data-dir", str(tmp_path), "db", "check").returncode == 0  # free once closed


def test_the_same_program_may_open_its_store_twice(tmp_path: Path) -> None:
    first = Store.open(tmp_path)
    second = Store.open(tmp_path)
    second.close()
    try:
        assert run_main("--data-dir", str(tmp_path), "db", "check").returncode == 1  # still held by `first`
    finally:
        first.close()


def test_store_in_use_is_a_message_not_a_crash() -> None:
    assert issubclass(StoreInUse, MemberDeskError)


# --- finding 7: unwritable folders, portable mode, long paths


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder this account may read but not write, as Program Files is to a counter's ordinary account."""
    folder = tmp_path / "Program Files" / "MemberDesk"
    folder.mkdir(parents=True)
    if os.name == "nt":
        # Windows ignores a folder's mode bits; an ACL denying Everyone (S-1-1-0) writing does it, admins included.
        everyone = "*S-1-1-0"
        subprocess.run(["icacls", str(folder), "/deny", f"{everyone}:(OI)(CI)(W)"], check=True, capture_output=True)
        yield folder
        subprocess.run(["icacls", str(folder), "/remove:d", everyone], check=True, capture_output=True)
        return
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    yield folder
    folder.chmod(0o755)


def test_an_unwritable_data_folder_gets_a_message_not_a_traceback(read_only_folder: Path) -> None:
    result = run_main("--data-dir", str(read_only_folder / "data"), "db", "check", as_nobody=True)
    err = result.stderr.decode()
    assert result.returncode == 1
    assert "Traceback" not in err
    assert "cannot be written" in err and "--data-dir" in err


def test_a_portable_copy_in_a_read_only_folder_is_refused_up_front(read_only_folder: Path) -> None:
    exe = read_only_folder / "MemberDesk"
    assert choose_data_dir(Machine(False, {}, exe, lambda _path: True)) == (read_only_folder / "data", True)
    code = (
        "from pathlib import Path; from app.paths import Machine, default_data_dir, DataFolderError\n"
        f"machine = Machine(False, {{}}, Path({str(exe)!r}), lambda path: path.name == 'portable.txt')\n"
        "try:\n    default_data_dir(machine)\nexcept DataFolderError as exc:\n    print(exc)\n"
    )
    result = run_python(code, as_nobody=True)
    assert "portable copy" in result.stdout.decode() and "cannot be written" in result.stdout.decode(), result


def test_a_path_too_long_for_windows_is_refused_with_its_length() -> None:
    folder = "D:\\" + "\\".join(["门店数据备份文件夹"] * 30)
    with pytest.raises(DataFolderError, match=f"{len(folder)} characters long"):
        check_store_folder(folder, windows=True, is_remote=lambda _p: False)


def test_a_path_too_long_for_the_file_system_gets_a_message(tmp_path: Path) -> None:
    deep = tmp_path / ("很长的文件夹名" * 40)  # over NAME_MAX bytes: ENAMETOOLONG, like Windows' 260 limit
    result = run_main("--data-dir", str(deep), "db", "check")
    err = result.stderr.decode()
    assert result.returncode == 1 and "Traceback" not in err
    assert "too long" in err


# --- finding 9: the data folder of an all-users install


def test_a_per_user_install_keeps_the_store_in_the_users_local_app_data() -> None:
    folder, portable = choose_data_dir(windows(set()))
    assert str(folder) == "C:\\Users\\收银员\\AppData\\Local\\MemberDesk" and not portable


def test_an_all_users_install_keeps_one_store_in_program_data() -> None:
    marker = str(EXE.parent / ALL_USERS_MARKER)
    folder, portable = choose_data_dir(windows({marker}))
    assert str(folder) == "C:\\ProgramData\\MemberDesk" and not portable


def test_portable_wins_over_all_users() -> None:
    files = {str(EXE.parent / ALL_USERS_MARKER), str(EXE.parent / PORTABLE_MARKER)}
    folder, portable = choose_data_dir(windows(files))
    assert folder == EXE.parent / "data" and portable


def test_run_from_source_uses_the_user_folder() -> None:
    folder, _ = choose_data_dir(windows({str(EXE.parent / ALL_USERS_MARKER)}, exe=None))
    assert str(folder).startswith("C:\\Users\\收银员\\AppData\\Local")


# --- finding 12: a %XX in the data path


def test_percent_escapes_in_a_windows_data_path_stay_as_typed() -> None:
    url = resolve_url(Path("D:\\a%20b"), None)
    assert make_url(url).database == str(Path("D:\\a%20b") / "memberdesk.sqlite3")


def test_a_store_in_a_folder_named_with_percent_escapes_opens_there(tmp_path: Path) -> None:
    folder = tmp_path / "a%20b"
    store = Store.open(folder)
    store.close()
    assert (folder / "memberdesk.sqlite3").exists()
    assert not (tmp_path / "a b").exists()
    assert make_url(sqlite_url(folder / "x.sqlite3")).database == str(folder / "x.sqlite3")


# --- issue 9: a full disk


def test_a_full_disk_is_named_plainly_and_nothing_is_written(tmp_path: Path) -> None:
    from sqlalchemy import event, func, select

    from db.engine import Database, StorageFull
    from db.migrate import upgrade
    from db.models import Setting

    db = Database(sqlite_url(tmp_path / "memberdesk.sqlite3"))
    upgrade(db)
    pages = db.read(lambda s: s.connection().exec_driver_sql("PRAGMA page_count").scalar_one())

    @event.listens_for(db.engine, "connect")
    def _small_disk(dbapi_conn: object, _record: object) -> None:
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages + 2}")  # type: ignore[attr-defined]

    db.engine.dispose()
    before = db.read(lambda s: s.scalar(select(func.count()).select_from(Setting)))
    with pytest.raises(StorageFull) as raised:
        db.write(lambda s: s.add_all(Setting(key=f"big.{n}", value="x" * 4000) for n in range(50)))
    assert isinstance(raised.value, OSError) and "disk holding the store is full" in str(raised.value)
    assert db.read(lambda s: s.scalar(select(func.count()).select_from(Setting))) == before
    db.dispose()
