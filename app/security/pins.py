"""Staff PINs: Argon2id (argon2-cffi) for every new hash. Hashes made before (salted PBKDF2) still verify and are
replaced by Argon2id at the holder's next successful sign-in (`needs_rehash`).

A PIN has only 4 to 8 digits, so the hash alone cannot protect it from someone holding the database file: what
protects it at the counter is the lockout in `app/security/guard.py`."""

from __future__ import annotations

import hashlib
import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

DEFAULT_PINS = ("0000",)
"""PINs a store starts with; the GUI asks their holders for a new one."""
_LEGACY_SCHEME = "pbkdf2_sha256"
_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
"""OWASP's Argon2id minimum (19 MiB, 2 passes): a sign-in stays well under a second on an old counter PC."""


def hash_pin(pin: str) -> str:
    return _HASHER.hash(pin)


def verify_pin(pin: str, stored: str | None) -> bool:
    if not stored:
        return False
    if stored.startswith(_LEGACY_SCHEME + "$"):
        return _verify_legacy(pin, stored)
    try:
        return _HASHER.verify(stored, pin)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True for a hash made before Argon2id or with weaker parameters than today's."""
    if stored.startswith(_LEGACY_SCHEME + "$"):
        return True
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def _verify_legacy(pin: str, stored: str) -> bool:
    try:
        _scheme, iterations, salt_hex, digest_hex = stored.split("$")
        digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt_hex), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)
