"""PBKDF2 through hashlib: the same bytes WebCrypto derives on Workers."""

from __future__ import annotations

import hashlib

from beatbun.runtime.kdfrules import check_pbkdf2


class HashlibKeyDerivation:
    async def pbkdf2_sha256(
        self, password: bytes, salt: bytes, *, iterations: int, length: int
    ) -> bytes:
        check_pbkdf2(iterations=iterations, length=length)
        return hashlib.pbkdf2_hmac("sha256", password, salt, iterations, length)
