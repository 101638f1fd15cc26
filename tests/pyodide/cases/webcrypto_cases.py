"""PBKDF2 and AES-GCM through WebCrypto (Node's `crypto.subtle`), against CPython's answers.

The expected bytes are what `hashlib.pbkdf2_hmac` and `cryptography`'s AESGCM (the local
adapters) give for the same input, so both runtimes derive and seal identically.
"""

from __future__ import annotations

from runner import case

from beatbun.errors import SealedDataError
from beatbun.runtime.cloudflare import WebCryptoCipher, WebCryptoKeyDerivation

KEY = bytes(range(32))
NONCE = bytes(range(100, 112))
SEALED = bytes.fromhex("3c73bb460a8c35ec5b16361d64019f6b5179c65069f60d2687c6")


@case
async def pbkdf2_matches_hashlib() -> None:
    kdf = WebCryptoKeyDerivation()
    derived = await kdf.pbkdf2_sha256(b"password", b"salt", iterations=4096, length=32)
    assert derived.hex() == "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"
    derived = await kdf.pbkdf2_sha256(
        b"correct horse", bytes(range(16)), iterations=100_000, length=32
    )
    assert derived.hex() == "57f2c2f0739748d516419b062a884666323c583ea4ae165504a81f7b53c62a09"
    try:
        await kdf.pbkdf2_sha256(b"p", b"salt", iterations=100_001, length=32)
    except ValueError as exc:
        assert "100000" in str(exc).replace(",", "").replace("_", ""), str(exc)
    else:
        raise AssertionError("more than workerd's 100,000 iterations were accepted")


@case
async def aes_gcm_matches_cryptography() -> None:
    cipher = WebCryptoCipher()
    sealed = await cipher.seal(KEY, NONCE, b"the secret", associated_data=b"account:42")
    assert sealed == SEALED, sealed.hex()
    assert await cipher.open(KEY, NONCE, sealed, associated_data=b"account:42") == b"the secret"
    tampered = bytes([sealed[0] ^ 1]) + sealed[1:]
    for attempt, data in ((tampered, b"account:42"), (sealed, b"account:43")):
        try:
            await cipher.open(KEY, NONCE, attempt, associated_data=data)
        except SealedDataError:
            pass
        else:
            raise AssertionError("a forged message opened")
