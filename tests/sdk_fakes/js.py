"""`js` as the WebCrypto key-derivation adapter uses it: `crypto.subtle` and `Object`.

PBKDF2 is computed with hashlib, and workerd's refusal above 100,000 iterations is reproduced
(limit-enforcer.h), so the adapter is tested against the documented behaviour.
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
        if fmt != "raw" or algorithm != "PBKDF2" or extractable or list(usages) != ["deriveBits"]:
            raise JsException("importKey: unsupported arguments", name="NotSupportedError")
        return {"raw": bytes(key)}

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


class _Crypto:
    subtle = _Subtle()


class Object:
    @staticmethod
    def fromEntries(entries: Any) -> dict[str, Any]:
        return dict(entries)


crypto = _Crypto()
