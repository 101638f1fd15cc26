"""Random secrets and how they are stored: only a SHA-256 digest ever reaches D1.

The secrets here carry 256 bits of entropy (or 60 for recovery codes, which are also
single-use and throttled), so a fast unsalted hash is enough; passwords use `passwords.py`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

TOKEN_BYTES = 32  # 256 bits
# How long an emailed link's token lives, by purpose (`accounts.links`).
LINK_LIFETIMES = {"verify": 48 * 3600.0, "change_email": 24 * 3600.0, "reset": 3600.0}


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_id() -> str:
    return secrets.token_hex(16)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def keyed_token(secret: str, purpose: str, value: str, *, size: int = 32) -> str:
    """A URL-safe token only `secret` can make for `value`: HMAC-SHA256 over `purpose:value`,
    its first `size` bytes in unpadded base64url. Nothing needs storing to check it later."""
    digest = hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:size]).rstrip(b"=").decode()
