"""AES-256-GCM through the `cryptography` package: the same bytes WebCrypto gives on Workers."""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from beatbun.errors import SealedDataError
from beatbun.runtime.cipherrules import check_aes_gcm


class CryptographyCipher:
    async def seal(
        self, key: bytes, nonce: bytes, plaintext: bytes, *, associated_data: bytes = b""
    ) -> bytes:
        check_aes_gcm(key=key, nonce=nonce)
        return AESGCM(key).encrypt(nonce, plaintext, associated_data)

    async def open(
        self, key: bytes, nonce: bytes, sealed: bytes, *, associated_data: bytes = b""
    ) -> bytes:
        check_aes_gcm(key=key, nonce=nonce, sealed=sealed)
        try:
            return AESGCM(key).decrypt(nonce, sealed, associated_data)
        except InvalidTag as exc:
            raise SealedDataError("AES-GCM tag did not verify.", code="sealed_data_error") from exc
