"""FieldCipher.encrypt_many: a whole import batch's ID numbers sealed at once, as the very Fernet tokens that
`encrypt` makes one by one."""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet
from hypothesis import given
from hypothesis import strategies as st

from app.security.crypto import FieldCipher

KEY = Fernet.generate_key()


@given(st.lists(st.text(max_size=60), max_size=40))
def test_a_batch_gives_tokens_that_plain_fernet_reads(texts: list[str]) -> None:
    tokens = FieldCipher(KEY).encrypt_many(texts)
    assert [Fernet(KEY).decrypt(token).decode() for token in tokens] == texts


def test_each_token_has_its_own_iv() -> None:
    tokens = FieldCipher(KEY).encrypt_many(["110101199001011237"] * 3)
    assert len(set(tokens)) == 3
    assert all(len(token) == len(Fernet(KEY).encrypt(b"110101199001011237")) for token in tokens)


@given(st.text(max_size=60))
def test_the_lookup_hash_is_hmac_sha256_under_the_lookup_key(text: str) -> None:
    lookup_key = hashlib.sha256(b"memberdesk-lookup:" + KEY).digest()
    assert FieldCipher(KEY).lookup_hash(text) == hmac.new(lookup_key, text.encode(), hashlib.sha256).hexdigest()
