"""Password rules (NIST SP 800-63B-4 §3.1.1.2) and storage (PBKDF2-HMAC-SHA256 with a pepper).

Stored format, self-describing so parameters can change without a migration:
`pbkdf2-sha256$v1$<iterations>$<salt, base64url>$<digest, base64url>`, where `v1` means the
password is first keyed with HMAC-SHA256(pepper) and that 32-byte value goes into PBKDF2.
The HMAC step reads every byte of any length, so nothing is ever truncated.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from beatbun.accounts.models import Account
from beatbun.errors import InvalidInput
from beatbun.i18n import N_
from beatbun.runtime.base import MAX_PBKDF2_ITERATIONS, KeyDerivation, Runtime

MIN_LENGTH_SINGLE_FACTOR = 15
MIN_LENGTH_WITH_SECOND_FACTOR = 8
# Far above NIST's "at least 64"; the bound only stops megabyte bodies reaching the hash.
MAX_LENGTH = 1024
# WebCrypto on Workers refuses more (see the closing note of the accounts issue for the cost).
ITERATIONS = MAX_PBKDF2_ITERATIONS
SALT_BYTES = 16
DIGEST_BYTES = 32
SCHEME = "pbkdf2-sha256"
VERSION = "v1"
COMMON_PASSWORDS = Path(__file__).parent / "common_passwords.txt"
# Verified against when an email is unknown, so both paths cost one full derivation.
_DUMMY_SALT = b"beatbun-no-such-account"
# A whole sentence per case, so no translation has to splice a phrase into another.
TOO_SHORT_WITH_SECOND_FACTOR = N_(
    "Use at least %(minimum)s characters with a second factor; a few unrelated words work well."
)
TOO_SHORT_ALONE = N_(
    "Use at least %(minimum)s characters without a second factor; a few unrelated words work well."
)
WRONG_CURRENT_PASSWORD = N_("Your current password is not correct.")


def minimum_length(*, has_second_factor: bool) -> int:
    return MIN_LENGTH_WITH_SECOND_FACTOR if has_second_factor else MIN_LENGTH_SINGLE_FACTOR


def check_password(
    password: str, *, has_second_factor: bool, context: Iterable[str] = (), field: str = "password"
) -> str:
    """Return the NFKC-normalized password, or raise InvalidInput naming the reason.

    No composition rules (NIST forbids them): only length, the common-password list and the
    account's own words (email, name).
    """
    normalized = normalize(password)
    minimum = minimum_length(has_second_factor=has_second_factor)
    if len(normalized) < minimum:
        raise InvalidInput(
            TOO_SHORT_WITH_SECOND_FACTOR if has_second_factor else TOO_SHORT_ALONE,
            code="password_too_short",
            field=field,
            params={"minimum": minimum},
        )
    if len(normalized) > MAX_LENGTH:
        raise InvalidInput(
            N_("Use at most %(maximum)s characters."),
            code="password_too_long",
            field=field,
            params={"maximum": MAX_LENGTH},
        )
    folded = normalized.casefold()
    if folded in _common_passwords():
        raise InvalidInput(
            N_("This password is in a list of common or breached passwords; choose another."),
            code="password_common",
            field=field,
        )
    if any(folded == word.casefold() for word in context if word):
        raise InvalidInput(
            N_("Your password must not be your email address or your name."),
            code="password_context",
            field=field,
        )
    return normalized


async def check_current_password(
    runtime: Runtime, account: Account, password: str, *, message: str = WRONG_CURRENT_PASSWORD
) -> None:
    """Raise InvalidInput(field="current_password") unless `password` is the account's."""
    if not await verify_password(
        password, account.password_hash, kdf=runtime.kdf, pepper=runtime.settings.password_pepper
    ):
        raise InvalidInput(message, field="current_password")


def normalize(password: str) -> str:
    """NFKC, so the same password typed on any keyboard or OS gives the same bytes."""
    return unicodedata.normalize("NFKC", password)


async def hash_password(password: str, *, kdf: KeyDerivation, pepper: str) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    digest = await _derive(password, salt=salt, iterations=ITERATIONS, kdf=kdf, pepper=pepper)
    return "$".join((SCHEME, VERSION, str(ITERATIONS), _b64(salt), _b64(digest)))


async def verify_password(password: str, stored: str, *, kdf: KeyDerivation, pepper: str) -> bool:
    """Compare in constant time; an unreadable stored hash never matches."""
    parts = stored.split("$")
    if len(parts) != 5 or parts[0] != SCHEME or parts[1] != VERSION or not parts[2].isdigit():
        return False
    salt, expected = _unb64(parts[3]), _unb64(parts[4])
    digest = await _derive(password, salt=salt, iterations=int(parts[2]), kdf=kdf, pepper=pepper)
    return hmac.compare_digest(digest, expected)


async def burn_dummy_hash(password: str, *, kdf: KeyDerivation, pepper: str) -> None:
    """Spend the time a real check costs, for logins with an unknown email."""
    await _derive(password, salt=_DUMMY_SALT, iterations=ITERATIONS, kdf=kdf, pepper=pepper)


def needs_rehash(stored: str) -> bool:
    return not stored.startswith(f"{SCHEME}${VERSION}${ITERATIONS}$")


async def _derive(
    password: str, *, salt: bytes, iterations: int, kdf: KeyDerivation, pepper: str
) -> bytes:
    keyed = hmac.new(pepper.encode(), normalize(password).encode(), hashlib.sha256).digest()
    return await kdf.pbkdf2_sha256(keyed, salt, iterations=iterations, length=DIGEST_BYTES)


@cache
def _common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
