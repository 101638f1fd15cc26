from __future__ import annotations

import json

import httpx
import pytest

from beatbun.accounts import passwords
from beatbun.runtime.base import MAX_PBKDF2_ITERATIONS, MailError, MailMessage
from beatbun.runtime.cloudflare import WebCryptoKeyDerivation
from beatbun.runtime.fetchrules import USER_AGENT
from beatbun.runtime.resend import RESEND_URL, ResendMailer
from beatbun_local.fetch import HttpxFetcher
from beatbun_local.kdf import HashlibKeyDerivation

MESSAGE = MailMessage(to="a@example.com", subject="Hi", text="Body")


def test_password_iterations_stay_within_webcrypto_cap() -> None:
    assert passwords.ITERATIONS <= MAX_PBKDF2_ITERATIONS == 100_000


@pytest.mark.parametrize(
    ("password", "salt", "iterations", "length"),
    [
        (b"pw", b"salt", 1, 32),
        (b"\xf0\x9f\x8e\xb5" * 40, b"0123456789abcdef", 100_000, 32),  # long non-ASCII, at the cap
        (b"", b"s", 10, 64),
    ],
)
async def test_webcrypto_and_hashlib_derive_identical_bytes(
    password: bytes, salt: bytes, iterations: int, length: int
) -> None:
    local = await HashlibKeyDerivation().pbkdf2_sha256(
        password, salt, iterations=iterations, length=length
    )
    edge = await WebCryptoKeyDerivation().pbkdf2_sha256(
        password, salt, iterations=iterations, length=length
    )
    assert local == edge and len(local) == length


# RFC 7914 §11: PBKDF2-HMAC-SHA256, P = "passwd", S = "salt", c = 1, dkLen = 64. The fake
# WebCrypto derives with hashlib too, so only a published vector shows either one is right.
PBKDF2_SHA256_VECTOR = bytes.fromhex(
    "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
    "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"
)


@pytest.mark.parametrize("kdf", [HashlibKeyDerivation(), WebCryptoKeyDerivation()])
async def test_both_kdfs_match_the_published_pbkdf2_sha256_vector(
    kdf: HashlibKeyDerivation,
) -> None:
    derived = await kdf.pbkdf2_sha256(b"passwd", b"salt", iterations=1, length=64)
    assert derived == PBKDF2_SHA256_VECTOR


@pytest.mark.parametrize("kdf", [HashlibKeyDerivation(), WebCryptoKeyDerivation()])
async def test_both_kdfs_refuse_iterations_above_the_cap(kdf: HashlibKeyDerivation) -> None:
    with pytest.raises(ValueError, match="100000"):
        await kdf.pbkdf2_sha256(b"pw", b"salt", iterations=100_001, length=32)


async def test_password_hash_round_trip_is_self_describing() -> None:
    kdf = HashlibKeyDerivation()
    stored = await passwords.hash_password("ﬁfteen chars or more", kdf=kdf, pepper="p")
    assert stored.startswith("pbkdf2-sha256$v1$100000$")
    # NFKC: the ligature and its letters are the same password.
    assert await passwords.verify_password("fifteen chars or more", stored, kdf=kdf, pepper="p")
    assert not await passwords.verify_password(
        "fifteen chars or more", stored, kdf=kdf, pepper="other"
    )
    assert not passwords.needs_rehash(stored)
    assert passwords.needs_rehash(stored.replace("$100000$", "$50000$"))


async def test_resend_posts_the_documented_body() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "49a3999c"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        await ResendMailer(
            HttpxFetcher(client), api_key="re_test", sender="Bun <no-reply@x.example>"
        ).send(MESSAGE)
    assert str(seen[0].url) == RESEND_URL and seen[0].headers["authorization"] == "Bearer re_test"
    assert json.loads(seen[0].content) == {
        "from": "Bun <no-reply@x.example>",
        "to": ["a@example.com"],
        "subject": "Hi",
        "text": "Body",
    }


async def test_resend_sends_our_user_agent() -> None:
    # Resend answers 403 (error 1010) to a request without one.
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "49a3999c"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        await ResendMailer(HttpxFetcher(client), api_key="re_test", sender="x").send(MESSAGE)
    assert seen[0].headers["user-agent"] == USER_AGENT


async def test_resend_refusal_raises_mail_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            422, json={"statusCode": 422, "name": "validation_error", "message": "bad from"}
        )

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(MailError, match="validation_error bad from"):
            await ResendMailer(HttpxFetcher(client), api_key="re_test", sender="x").send(MESSAGE)
