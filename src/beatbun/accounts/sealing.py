"""Secrets kept in D1 (TOTP keys), sealed with AES-256-GCM under a key of the `DATA_KEYS` ring.

Stored form: `v1:<key id>:<base64url(nonce + ciphertext + tag)>`. Each secret of the ring
gives a 32-byte key (HMAC-SHA256 of a fixed label, keyed by the secret) and a key id (a short
HMAC of that key, so it reveals nothing). The first secret seals; any secret of the ring opens
what carries its id, so rotating is: put the new secret first, keep the old one after it
until the cron has resealed everything (`reseal_totp_secrets`), then drop it.

The associated data binds a value to its place (`totp:<account id>`), so a sealed value copied
to another account's row does not open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from beatbun.errors import SealedDataError
from beatbun.runtime.base import AES_GCM_NONCE_BYTES, Cipher
from beatbun.settings import Settings

VERSION = "v1"
_KEY_LABEL = b"beatbun data key v1"
_KEY_ID_LABEL = b"beatbun data key id"
KEY_ID_CHARS = 8


@dataclass(frozen=True)
class DataKey:
    id: str
    key: bytes


def key_ring(settings: Settings) -> list[DataKey]:
    """The ring from `DATA_KEYS`, current key first; RuntimeError when it is empty."""
    ring = [_data_key(secret) for secret in settings.data_keys.split()]
    if not ring:
        raise RuntimeError("Config 'DATA_KEYS' is empty. Set at least one long random secret.")
    return ring


def is_sealed(stored: str) -> bool:
    return stored.startswith(f"{VERSION}:")


def is_sealed_with_current_key(stored: str, settings: Settings) -> bool:
    return stored.startswith(f"{VERSION}:{key_ring(settings)[0].id}:")


async def seal_text(cipher: Cipher, settings: Settings, plaintext: str, *, context: str) -> str:
    """`plaintext` sealed under the current key, bound to `context`."""
    current = key_ring(settings)[0]
    nonce = secrets.token_bytes(AES_GCM_NONCE_BYTES)
    sealed = await cipher.seal(
        current.key, nonce, plaintext.encode(), associated_data=context.encode()
    )
    body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
    return f"{VERSION}:{current.id}:{body}"


async def open_text(cipher: Cipher, settings: Settings, stored: str, *, context: str) -> str:
    """The plaintext of a sealed value; SealedDataError when its key is not in the ring, it
    is malformed, or it was sealed for another context or altered."""
    version, _, rest = stored.partition(":")
    key_id, _, body = rest.partition(":")
    if version != VERSION or not body:
        raise SealedDataError("Sealed value has an unknown format.", code="sealed_data_error")
    keys = {data_key.id: data_key.key for data_key in key_ring(settings)}
    if key_id not in keys:
        raise SealedDataError(
            f"Sealed value uses key id '{key_id}', which is not in DATA_KEYS.",
            code="sealed_data_error",
        )
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError as exc:
        raise SealedDataError("Sealed value is not base64.", code="sealed_data_error") from exc
    nonce, sealed = raw[:AES_GCM_NONCE_BYTES], raw[AES_GCM_NONCE_BYTES:]
    if len(nonce) != AES_GCM_NONCE_BYTES:
        raise SealedDataError("Sealed value is truncated.", code="sealed_data_error")
    try:
        plaintext = await cipher.open(keys[key_id], nonce, sealed, associated_data=context.encode())
    except ValueError as exc:
        raise SealedDataError("Sealed value is truncated.", code="sealed_data_error") from exc
    return plaintext.decode()


def _data_key(secret: str) -> DataKey:
    key = hmac.new(secret.encode(), _KEY_LABEL, hashlib.sha256).digest()
    key_id = hmac.new(key, _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:KEY_ID_CHARS]
    return DataKey(id=key_id, key=key)
