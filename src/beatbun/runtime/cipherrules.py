"""AES-256-GCM's sizes, enforced by both cipher adapters so they fail alike."""

from __future__ import annotations

from beatbun.runtime.base import AES_GCM_NONCE_BYTES, AES_GCM_TAG_BYTES, AES_KEY_BYTES


def check_aes_gcm(*, key: bytes, nonce: bytes, sealed: bytes | None = None) -> None:
    """Raise ValueError for sizes we never use (WebCrypto would take some of them)."""
    if len(key) != AES_KEY_BYTES:
        raise ValueError(f"AES-256-GCM needs a {AES_KEY_BYTES}-byte key, got {len(key)} bytes.")
    if len(nonce) != AES_GCM_NONCE_BYTES:
        raise ValueError(
            f"AES-GCM nonces are {AES_GCM_NONCE_BYTES} bytes here, got {len(nonce)} bytes."
        )
    if sealed is not None and len(sealed) < AES_GCM_TAG_BYTES:
        raise ValueError(
            f"Sealed data is at least its {AES_GCM_TAG_BYTES}-byte tag, got {len(sealed)} bytes."
        )
