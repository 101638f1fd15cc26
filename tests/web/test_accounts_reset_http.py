"""Forgotten-password requests over HTTP on the real server: timing, one mail, per-address cap.

A module of its own, so its server's reset requests start at zero. Every request names its own
client address (`X-Forwarded-For`, which uvicorn trusts from loopback as a proxy's), so the
per-address cap holds back only the test that is about it.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
import statistics
import time
import uuid
from collections.abc import Iterator
from email import message_from_bytes, policy

import httpx

from beatbun.accounts.profile import RESET_REQUESTS_PER_IP
from tests.conftest import LiveServer
from tests.mail_waits import wait_for_mail
from tests.visitors import Visitor, outbox, sign_up

# The machine runs other work too: enough pairs that noise moves the medians by a few percent.
PAIRS = 150
WARM_UP = 10
# Known and unknown addresses may differ by at most this share of the faster median.
MAX_TIMING_GAP = 0.20
_addresses = (f"10.{a}.{b}.7" for a, b in itertools.product(range(1, 250), range(1, 250)))


def _email() -> str:
    return f"{uuid.uuid4().hex[:12]}@example.com"


def _strip(text: str) -> str:
    return re.sub(r'(value|nonce)="[^"]*"', "", text)


def _resets(server: LiveServer, address: str) -> list[str]:
    return [body for body in outbox(server.state_dir, address) if "/reset-password" in body]


def _recipients(server: LiveServer, *, until: set[str], timeout: float = 10.0) -> set[str]:
    """Everyone the outbox has mail for, once it includes `until` (or `timeout` passed)."""
    deadline = time.monotonic() + timeout
    while True:
        found = {
            message_from_bytes(path.read_bytes(), policy=policy.default)["To"]
            for path in (server.state_dir / "outbox").glob("*.eml")
        }
        if until <= found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def _known(server: LiveServer, count: int) -> list[str]:
    emails = [_email() for _ in range(count)]
    for email in emails:
        assert sign_up(Visitor(server.url), email).status_code == 303
    return emails


def _many_known(server: LiveServer, count: int) -> list[str]:
    """Accounts written straight into the server's D1 file: signing up each costs a KDF run."""
    emails = [_email() for _ in range(count)]
    with sqlite3.connect(server.state_dir / "d1" / "DB.sqlite") as db:
        db.executemany(
            "INSERT INTO accounts (id, email, display_name, birth_date, age_group,"
            " password_hash, created_at) VALUES (?, ?, 'Test Person', '1990-05-04', 'adult',"
            " 'not-a-hash', 0)",
            [(uuid.uuid4().hex, email) for email in emails],
        )
    return emails


class Asker:
    """Posts the forgot-password form over one kept-alive connection with one CSRF token."""

    def __init__(self, server: LiveServer) -> None:
        visitor = Visitor(server.url)
        self._token = visitor.csrf("/forgot-password")
        cookie = "; ".join(f"{name}={value}" for name, value in visitor.cookies.items())
        self._client = httpx.Client(
            base_url=server.url,
            headers={"Origin": server.url, "Cookie": cookie, "User-Agent": visitor.user_agent},
        )

    def ask(self, email: str, *, ip: str | None = None) -> tuple[httpx.Response, float]:
        """The answer and the seconds it took."""
        headers = {"X-Forwarded-For": ip or next(_addresses)}
        form = {"email": email, "csrf_token": self._token}
        started = time.perf_counter()
        response = self._client.post("/forgot-password", data=form, headers=headers)
        return response, time.perf_counter() - started

    def close(self) -> None:
        self._client.close()


def _interleaved(known: list[str]) -> Iterator[tuple[str, str]]:
    """(kind, email) pairs, known first and unknown first in turn, so order cancels out."""
    for number, email in enumerate(known):
        pair = [("known", email), ("unknown", _email())]
        yield from pair if number % 2 == 0 else reversed(pair)


def test_known_and_unknown_addresses_answer_in_the_same_time(
    shared_live_server: LiveServer,
) -> None:
    server = shared_live_server
    known = _many_known(server, PAIRS)
    asker = Asker(server)
    try:
        for _ in range(WARM_UP):
            asker.ask(_email())
        timings: dict[str, list[float]] = {"known": [], "unknown": []}
        pages: set[str] = set()
        unknown: set[str] = set()
        for kind, email in _interleaved(known):
            if kind == "unknown":
                unknown.add(email)
            response, seconds = asker.ask(email)
            assert response.status_code == 200
            pages.add(_strip(response.text))
            timings[kind].append(seconds)
            time.sleep(0.02)  # let the after-response flush finish before the next request
    finally:
        asker.close()
    medians = {kind: statistics.median(values) for kind, values in timings.items()}
    gap = abs(medians["known"] - medians["unknown"]) / min(medians.values())
    print(
        f"\nforgot-password medians over {PAIRS} pairs: known {medians['known'] * 1000:.2f} ms,"
        f" unknown {medians['unknown'] * 1000:.2f} ms, gap {gap:.1%}"
    )
    assert len(pages) == 1
    # The known side really did the mailing work, and the unknown side none.
    mailed = _recipients(server, until=set(known))
    assert set(known) <= mailed and not unknown & mailed
    assert gap <= MAX_TIMING_GAP, medians


def test_twenty_rapid_requests_send_one_mail(shared_live_server: LiveServer) -> None:
    server = shared_live_server
    (email,) = _known(server, 1)
    asker = Asker(server)
    try:
        answers = [asker.ask(email)[0] for _ in range(20)]
    finally:
        asker.close()
    assert {response.status_code for response in answers} == {200}
    assert len({_strip(response.text) for response in answers}) == 1
    wait_for_mail(server.state_dir, email, count=2)
    time.sleep(0.5)  # anything more would have been flushed by now
    assert len(_resets(server, email)) == 1


def test_one_client_address_gets_its_hourly_share_and_then_the_same_page_only(
    shared_live_server: LiveServer,
) -> None:
    server = shared_live_server
    emails = _known(server, RESET_REQUESTS_PER_IP + 2)
    asker = Asker(server)
    try:
        answers = [asker.ask(email, ip="203.0.113.77")[0] for email in emails]
    finally:
        asker.close()
    assert len({_strip(response.text) for response in answers}) == 1
    for email in emails[:RESET_REQUESTS_PER_IP]:
        wait_for_mail(server.state_dir, email, count=2)
    time.sleep(0.5)
    assert [len(_resets(server, email)) for email in emails] == [1] * RESET_REQUESTS_PER_IP + [
        0,
        0,
    ]
