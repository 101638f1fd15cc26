"""WebCrypto's PBKDF2 limits, enforced by both key-derivation adapters so they fail alike."""

from __future__ import annotations

from beatbun.runtime.base import MAX_PBKDF2_ITERATIONS


def check_pbkdf2(*, iterations: int, length: int) -> None:
    """Raise ValueError for parameters workerd's `crypto.subtle.deriveBits` would refuse."""
    if not 1 <= iterations <= MAX_PBKDF2_ITERATIONS:
        raise ValueError(
            f"PBKDF2 iterations must be 1 to {MAX_PBKDF2_ITERATIONS} (WebCrypto's cap on "
            f"Workers), got {iterations}."
        )
    if length <= 0:
        raise ValueError(f"PBKDF2 output length must be positive, got {length}.")
