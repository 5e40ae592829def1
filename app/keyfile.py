"""The key that encrypts ID numbers at rest: kept in the data folder, never in the database, and protected there.

On Windows the file holds the key sealed with DPAPI, so a copy of the data folder taken to another PC (a stolen
backup disk, a shared folder) does not open the ID numbers: sealed for the user for a per-user store, for the
machine for an all-users store in ProgramData (every account of that PC may use it). `0o600` on the file, which is
all POSIX offers, means nothing on Windows. A key file from before is sealed the first time it is read.

A chain's counters must share one key, and DPAPI will not travel: `export_key` writes a copy sealed with a
passphrase (scrypt + Fernet) that `import_key` takes in on the other counter. The owner keeps that copy with the
store's backups: without the key, the ID numbers in a backup cannot be read.
"""

from __future__ import annotations

import base64
import ctypes
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from app.errors import MemberDeskError
from app.i18n import QT_TRANSLATE_NOOP as S

SEALED_HEADER = b"memberdesk-key"
EXPORT_HEADER = b"memberdesk-key-export 1"
SCRYPT_N = 2**15
MIN_PASSPHRASE = 8
KEY_BYTES = 32

KEY_UNREADABLE = S("Errors", "The key file {path} cannot be read on this PC or by this account ({reason}).")
KEY_DAMAGED = S("Errors", "The key file {path} is damaged: it holds no MemberDesk key.")
WRONG_PASSPHRASE = S("Errors", "The passphrase does not open the key file {path}.")
NOT_AN_EXPORT = S("Errors", "{path} is not a MemberDesk key export.")
SHORT_PASSPHRASE = S("Errors", "The passphrase needs at least {count} characters.")
OTHER_KEY_THERE = S(
    "Errors",
    "This counter already has another key ({path}). Importing over it would make the ID numbers it encrypted "
    "unreadable: move that file away first if this counter's own data is not needed.",
)


class KeyFileError(MemberDeskError):
    pass


class KeySeal(Protocol):
    """Seals the key for this PC (DPAPI); `scheme` names it in the file so the right one opens it."""

    @property
    def scheme(self) -> str: ...

    def seal(self, key: bytes) -> bytes: ...

    def open(self, sealed: bytes) -> bytes: ...


@dataclass(frozen=True)
class DpapiSeal:
    machine: bool
    """Sealed for every account of this PC (an all-users store), else only for the current Windows account."""

    @property
    def scheme(self) -> str:
        return "dpapi-machine" if self.machine else "dpapi-user"

    def seal(self, key: bytes) -> bytes:
        return _dpapi(key, protect=True, machine=self.machine)

    def open(self, sealed: bytes) -> bytes:
        return _dpapi(sealed, protect=False, machine=self.machine)


class _Blob(ctypes.Structure):
    _fields_ = [("size", ctypes.c_uint32), ("data", ctypes.POINTER(ctypes.c_char))]


def _dpapi(data: bytes, *, protect: bool, machine: bool) -> bytes:
    ui_forbidden, local_machine = 0x1, 0x4
    flags = ui_forbidden | (local_machine if machine and protect else 0)
    buffer = ctypes.create_string_buffer(data, len(data))
    given = _Blob(len(data), ctypes.cast(buffer, ctypes.POINTER(ctypes.c_char)))
    result = _Blob()
    crypt32 = ctypes.windll.crypt32  # type: ignore[attr-defined,unused-ignore]
    if protect:
        ok = crypt32.CryptProtectData(ctypes.byref(given), "MemberDesk", None, None, None, flags, ctypes.byref(result))
    else:
        ok = crypt32.CryptUnprotectData(ctypes.byref(given), None, None, None, None, flags, ctypes.byref(result))
    if not ok:
        raise ctypes.WinError()  # type: ignore[attr-defined,unused-ignore]
    try:
        return ctypes.string_at(result.data, result.size)
    finally:
        ctypes.windll.kernel32.LocalFree(result.data)  # type: ignore[attr-defined,unused-ignore]


def seal_for(data_dir: Path, environ: Mapping[str, str] = os.environ) -> KeySeal | None:
    """DPAPI on Windows (for the machine when the data folder is under ProgramData), nothing elsewhere."""
    if sys.platform != "win32":
        return None

    def folded(path: str) -> str:
        return path.replace("\\", "/").rstrip("/").lower() + "/"

    program_data = folded(environ.get("PROGRAMDATA", "C:\\ProgramData"))
    return DpapiSeal(machine=folded(str(data_dir.resolve())).startswith(program_data))


def _check_key(key: bytes, path: Path) -> bytes:
    """A Fernet key is 32 bytes in URL-safe base64, as `Fernet(key)` checks it; checked here without loading
    `cryptography` (35 ms), which only the encrypting services and the key's export and import need."""
    try:
        if len(base64.urlsafe_b64decode(key)) == KEY_BYTES:
            return key
    except ValueError:  # binascii.Error is a ValueError
        pass
    raise KeyFileError(KEY_DAMAGED, path=str(path))


def _write_private(path: Path, content: bytes) -> None:
    """Written whole or not at all (a new file moved into place), readable by this account only where POSIX rules."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".new")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(content)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)


def write_key(path: Path, key: bytes, seal: KeySeal | None) -> None:
    if seal is None:
        _write_private(path, key)
    else:
        sealed = base64.b64encode(seal.seal(key))
        _write_private(path, SEALED_HEADER + b" " + seal.scheme.encode() + b"\n" + sealed + b"\n")


def read_key(path: Path, seal: KeySeal | None) -> bytes:
    """The key in `path`; a key kept in the clear is sealed in place when this PC has a seal."""
    content = path.read_bytes().strip()
    if not content.startswith(SEALED_HEADER + b" "):
        key = _check_key(content, path)
        if seal is not None:
            write_key(path, key, seal)
        return key
    header, _, body = content.partition(b"\n")
    scheme = header.removeprefix(SEALED_HEADER + b" ").decode("ascii", errors="replace")
    if seal is None or seal.scheme != scheme:
        raise KeyFileError(KEY_UNREADABLE, path=str(path), reason=scheme)
    try:
        return _check_key(seal.open(base64.b64decode(body)), path)
    except (OSError, ValueError) as exc:
        raise KeyFileError(KEY_UNREADABLE, path=str(path), reason=str(exc)) from exc


def load_or_create_key(path: Path, seal: KeySeal | None) -> bytes:
    if not path.exists():
        from cryptography.fernet import Fernet

        write_key(path, Fernet.generate_key(), seal)
    return read_key(path, seal)


def _passphrase_key(passphrase: str, salt: bytes) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    derived = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=8, p=1).derive(passphrase.encode("utf-8"))
    return base64.urlsafe_b64encode(derived)


def export_key(key_file: Path, target: Path, passphrase: str, seal: KeySeal | None) -> None:
    """A copy of the store's key sealed with `passphrase`, for the other counters of a chain and for backups."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise KeyFileError(SHORT_PASSPHRASE, count=MIN_PASSPHRASE)
    from cryptography.fernet import Fernet

    key = read_key(key_file, seal)
    salt = os.urandom(16)
    token = Fernet(_passphrase_key(passphrase, salt)).encrypt(key)
    _write_private(target, EXPORT_HEADER + b"\n" + base64.b64encode(salt) + b"\n" + token + b"\n")


def import_key(source: Path, key_file: Path, passphrase: str, seal: KeySeal | None) -> None:
    """Take in an exported key as this counter's key (sealed for this PC). A counter that already has a different
    key is refused: its encrypted ID numbers would become unreadable."""
    from cryptography.fernet import Fernet, InvalidToken

    try:
        header, salt, token = source.read_bytes().strip().split(b"\n")
        if header.strip() != EXPORT_HEADER:
            raise ValueError(header)
        key = Fernet(_passphrase_key(passphrase, base64.b64decode(salt))).decrypt(token.strip())
    except InvalidToken:
        raise KeyFileError(WRONG_PASSPHRASE, path=str(source)) from None
    except ValueError:
        raise KeyFileError(NOT_AN_EXPORT, path=str(source)) from None
    _check_key(key, source)
    if key_file.exists():
        if read_key(key_file, seal) == key:
            return
        raise KeyFileError(OTHER_KEY_THERE, path=str(key_file))
    write_key(key_file, key, seal)
