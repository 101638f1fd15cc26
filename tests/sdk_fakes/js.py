"""`js` as the WebCrypto adapters use it: `crypto.subtle` and `Object`.

PBKDF2 is computed with hashlib, and workerd's refusal above 100,000 iterations is reproduced
(limit-enforcer.h), so the adapter is tested against the documented behaviour. AES-GCM really
encrypts (with `cryptography`, imported only when called) and, as WebCrypto does, appends the
tag to the ciphertext and reports a tag that does not verify as an `OperationError`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pyodide.ffi import JsException


class _Buffer:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def to_bytes(self) -> bytes:
        return self._data


class _Subtle:
    async def importKey(
        self, fmt: str, key: Any, algorithm: str, extractable: bool, usages: Any
    ) -> dict[str, Any]:
        if algorithm == "AES-GCM":
            if fmt != "raw" or extractable or not set(usages) <= {"encrypt", "decrypt"}:
                raise JsException("importKey: unsupported arguments", name="NotSupportedError")
            if len(bytes(key)) not in (16, 24, 32):
                raise JsException("importKey: invalid AES key length", name="DataError")
            return {"aes": bytes(key), "usages": list(usages)}
        if fmt != "raw" or algorithm != "PBKDF2" or extractable or list(usages) != ["deriveBits"]:
            raise JsException("importKey: unsupported arguments", name="NotSupportedError")
        return {"raw": bytes(key)}

    async def encrypt(self, params: dict[str, Any], key: dict[str, Any], data: Any) -> _Buffer:
        aes = _aes_gcm(params, key, "encrypt")
        return _Buffer(aes.encrypt(bytes(params["iv"]), bytes(data), _aad(params)))

    async def decrypt(self, params: dict[str, Any], key: dict[str, Any], data: Any) -> _Buffer:
        from cryptography.exceptions import InvalidTag

        aes = _aes_gcm(params, key, "decrypt")
        try:
            return _Buffer(aes.decrypt(bytes(params["iv"]), bytes(data), _aad(params)))
        except InvalidTag:
            raise JsException("Decryption failed.", name="OperationError") from None

    async def deriveBits(self, params: dict[str, Any], key: dict[str, Any], bits: int) -> _Buffer:
        if params.get("name") != "PBKDF2" or params.get("hash") != "SHA-256":
            raise JsException("deriveBits: unsupported algorithm", name="NotSupportedError")
        if params["iterations"] > 100_000:
            raise JsException(
                "Pbkdf2 failed: iteration counts above 100000 are not supported",
                name="DOMNotSupportedError",
            )
        derived = hashlib.pbkdf2_hmac(
            "sha256", key["raw"], bytes(params["salt"]), params["iterations"], bits // 8
        )
        return _Buffer(derived)


def _aes_gcm(params: dict[str, Any], key: dict[str, Any], usage: str) -> Any:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if params.get("name") != "AES-GCM" or params.get("tagLength", 128) != 128:
        raise JsException(f"{usage}: unsupported algorithm", name="NotSupportedError")
    if "aes" not in key or usage not in key["usages"]:
        raise JsException(f"{usage}: key does not allow it", name="InvalidAccessError")
    return AESGCM(key["aes"])


def _aad(params: dict[str, Any]) -> bytes | None:
    data = params.get("additionalData")
    return None if data is None else bytes(data)


class _Crypto:
    subtle = _Subtle()


class Object:
    @staticmethod
    def fromEntries(entries: Any) -> dict[str, Any]:
        return dict(entries)


crypto = _Crypto()
