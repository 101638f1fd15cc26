"""AES-256-GCM: the WebCrypto adapter (against a fake `crypto.subtle` that really encrypts)
and the local `cryptography` adapter give the same bytes and fail alike."""

from __future__ import annotations

import pytest

from beatbun.errors import SealedDataError
from beatbun.runtime.base import Cipher
from beatbun.runtime.cloudflare import WebCryptoCipher
from beatbun_local.cipher import CryptographyCipher

KEY = bytes(range(32))
NONCE = bytes(range(100, 112))
CIPHERS = [CryptographyCipher(), WebCryptoCipher()]


@pytest.mark.parametrize(
    ("plaintext", "associated_data"),
    [
        (b"JBSWY3DPEHPK3PXP", b"totp:account-1"),
        (b"", b""),  # empty message: only the tag
        ("Grüße 🎵".encode() * 100, b"x" * 300),  # multi-block, non-ASCII, long associated data
    ],
)
async def test_webcrypto_and_cryptography_seal_identical_bytes(
    plaintext: bytes, associated_data: bytes
) -> None:
    local = await CryptographyCipher().seal(KEY, NONCE, plaintext, associated_data=associated_data)
    edge = await WebCryptoCipher().seal(KEY, NONCE, plaintext, associated_data=associated_data)
    assert local == edge and len(local) == len(plaintext) + 16
    # Each opens what the other sealed.
    assert (
        await WebCryptoCipher().open(KEY, NONCE, local, associated_data=associated_data)
        == plaintext
    )
    assert (
        await CryptographyCipher().open(KEY, NONCE, edge, associated_data=associated_data)
        == plaintext
    )


# McGrew & Viega, "The Galois/Counter Mode of Operation", test case 14: a zero 256-bit key,
# a zero 96-bit IV and one zero block. Both fakes and adapters must match a published vector.
GCM_CASE_14 = bytes.fromhex("cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919")


@pytest.mark.parametrize("cipher", CIPHERS)
async def test_both_ciphers_match_the_published_gcm_vector(cipher: Cipher) -> None:
    assert await cipher.seal(bytes(32), bytes(12), bytes(16)) == GCM_CASE_14


@pytest.mark.parametrize("cipher", CIPHERS)
async def test_both_ciphers_refuse_a_tampered_message(cipher: Cipher) -> None:
    sealed = bytearray(await cipher.seal(KEY, NONCE, b"secret", associated_data=b"a"))
    sealed[0] ^= 1
    with pytest.raises(SealedDataError):
        await cipher.open(KEY, NONCE, bytes(sealed), associated_data=b"a")


@pytest.mark.parametrize("cipher", CIPHERS)
async def test_both_ciphers_refuse_other_associated_data(cipher: Cipher) -> None:
    sealed = await cipher.seal(KEY, NONCE, b"secret", associated_data=b"totp:a")
    with pytest.raises(SealedDataError):
        await cipher.open(KEY, NONCE, sealed, associated_data=b"totp:b")


@pytest.mark.parametrize("cipher", CIPHERS)
@pytest.mark.parametrize(
    ("key", "nonce", "message"),
    [
        (bytes(16), NONCE, "32-byte key"),  # AES-128 key: WebCrypto would take it, we do not
        (KEY, bytes(16), "12 bytes"),  # a longer IV: WebCrypto would take it, we do not
    ],
)
async def test_both_ciphers_refuse_other_sizes(
    cipher: Cipher, key: bytes, nonce: bytes, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await cipher.seal(key, nonce, b"x")
