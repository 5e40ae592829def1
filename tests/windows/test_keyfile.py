"""Finding 9: the key sealed for the PC (DPAPI on Windows, played here by a stand-in seal) and an explicit export
and import for the counters of a chain."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from app.keyfile import (
    KeyFileError,
    export_key,
    import_key,
    load_or_create_key,
    read_key,
    seal_for,
)
from app.security.crypto import FieldCipher
from tests.windows.support import run_main


@dataclass(frozen=True)
class StandInSeal:
    """Plays DPAPI: only the same 'PC' (secret) opens what it sealed."""

    secret: int
    scheme: str = "dpapi-machine"

    def seal(self, key: bytes) -> bytes:
        return bytes(b ^ self.secret for b in key)

    def open(self, sealed: bytes) -> bytes:
        return bytes(b ^ self.secret for b in sealed)


def test_a_new_key_is_kept_sealed_for_this_pc(tmp_path: Path) -> None:
    key_file = tmp_path / "memberdesk.key"
    key = load_or_create_key(key_file, StandInSeal(7))
    stored = key_file.read_bytes()
    assert stored.startswith(b"memberdesk-key dpapi-machine\n") and key not in stored
    assert read_key(key_file, StandInSeal(7)) == key
    with pytest.raises(KeyFileError, match="cannot be read on this PC"):
        read_key(key_file, None)  # the folder copied to a PC without the seal


def test_a_key_from_before_is_sealed_when_first_read(tmp_path: Path) -> None:
    key_file = tmp_path / "memberdesk.key"
    key = Fernet.generate_key()
    key_file.write_bytes(key + b"\n")
    assert load_or_create_key(key_file, StandInSeal(9)) == key
    assert key not in key_file.read_bytes()


@pytest.mark.parametrize(
    "content",
    [b"", b"not a key", base64.urlsafe_b64encode(b"k" * 31), base64.urlsafe_b64encode(b"k" * 33), b"\xff" * 44],
)
def test_a_damaged_key_is_refused_as_fernet_refuses_it(tmp_path: Path, content: bytes) -> None:
    key_file = tmp_path / "memberdesk.key"
    key_file.write_bytes(content)
    with pytest.raises(ValueError):
        Fernet(content)
    with pytest.raises(KeyFileError, match="is damaged"):
        read_key(key_file, None)


def test_reading_the_key_leaves_cryptography_unloaded(tmp_path: Path) -> None:
    """The counter reads its key at every start, before the first lookup: checked without loading `cryptography`,
    which the encrypting services load later, off the first answer's path."""
    key_file = tmp_path / "memberdesk.key"
    key = Fernet.generate_key()
    key_file.write_bytes(key + b"\n")
    probe = (
        "import sys; from pathlib import Path; from app.keyfile import load_or_create_key;"
        f"key = load_or_create_key(Path({str(key_file)!r}), None);"
        "print(key.decode(), 'cryptography' in sys.modules)"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True).stdout
    assert out.split() == [key.decode(), "False"]


def test_export_and_import_carry_the_key_to_another_counter(tmp_path: Path) -> None:
    first, second = tmp_path / "counter1" / "memberdesk.key", tmp_path / "counter2" / "memberdesk.key"
    key = load_or_create_key(first, StandInSeal(3))
    export = tmp_path / "usb" / "store-key.mdkey"
    export_key(first, export, "门店密钥 2026", StandInSeal(3))
    assert key not in export.read_bytes() and base64.b64encode(key) not in export.read_bytes()
    with pytest.raises(KeyFileError, match="passphrase does not open"):
        import_key(export, second, "wrong passphrase", StandInSeal(5))
    assert not second.exists()
    import_key(export, second, "门店密钥 2026", StandInSeal(5))
    assert read_key(second, StandInSeal(5)) == key
    token = FieldCipher(key).encrypt("110101199003074514")
    assert FieldCipher(read_key(second, StandInSeal(5))).decrypt(token) == "110101199003074514"
    import_key(export, second, "门店密钥 2026", StandInSeal(5))  # the same key again: nothing to do


def test_import_refuses_to_replace_a_different_key(tmp_path: Path) -> None:
    source = tmp_path / "a.key"
    load_or_create_key(source, None)
    export_key(source, tmp_path / "a.mdkey", "long enough", None)
    own = tmp_path / "b.key"
    load_or_create_key(own, None)
    with pytest.raises(KeyFileError, match="already has another key"):
        import_key(tmp_path / "a.mdkey", own, "long enough", None)


def test_a_short_passphrase_and_a_file_that_is_no_export_are_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "memberdesk.key"
    load_or_create_key(key_file, None)
    with pytest.raises(KeyFileError, match="at least 8"):
        export_key(key_file, tmp_path / "x.mdkey", "1234", None)
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a key")
    with pytest.raises(KeyFileError, match="not a MemberDesk key export"):
        import_key(tmp_path / "photo.jpg", tmp_path / "other.key", "long enough", None)


def test_the_seal_is_for_the_machine_under_program_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.platform", "win32")
    env = {"PROGRAMDATA": str(Path("/ProgramData").resolve())}
    machine = seal_for(Path("/ProgramData/MemberDesk"), env)
    user = seal_for(Path("/home/cashier/AppData/Local/MemberDesk"), env)
    assert machine is not None and machine.scheme == "dpapi-machine"
    assert user is not None and user.scheme == "dpapi-user"


def test_the_command_line_exports_and_imports(tmp_path: Path) -> None:
    env = {"MEMBERDESK_KEY_PASSPHRASE": "a chain's passphrase"}
    assert run_main("--data-dir", str(tmp_path / "c1"), "db", "upgrade").returncode == 0
    out = run_main("--data-dir", str(tmp_path / "c1"), "key", "export", str(tmp_path / "k.mdkey"), env=env)
    assert out.returncode == 0, out.stderr
    back = run_main("--data-dir", str(tmp_path / "c2"), "key", "import", str(tmp_path / "k.mdkey"), env=env)
    assert back.returncode == 0, back.stderr
    assert (tmp_path / "c2" / "memberdesk.key").read_bytes() == (tmp_path / "c1" / "memberdesk.key").read_bytes()
    assert os.stat(tmp_path / "c2" / "memberdesk.key").st_mode & 0o077 == 0
