"""Encryption at rest for ID numbers, with a key kept in the data folder and never in the database.

A chain's counters must share the same key file (copied once when a counter is set up)."""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken


class FieldCipher:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)
        self._hmac_key = hashlib.sha256(b"memberdesk-lookup:" + key).digest()

    @classmethod
    def from_key_file(cls, path: Path) -> FieldCipher:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            key = Fernet.generate_key()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(key)
        return cls(path.read_bytes().strip())

    def encrypt(self, text: str) -> bytes:
        return self._fernet.encrypt(text.encode())

    def decrypt(self, token: bytes) -> str | None:
        """The clear text, or None when the key does not fit (a counter set up with another key file)."""
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken:
            return None

    def lookup_hash(self, text: str) -> str:
        """A keyed hash so duplicates can be found without decrypting every row."""
        return hmac.new(self._hmac_key, text.encode(), hashlib.sha256).hexdigest()
