"""Forgotten-password requests over HTTP on the real server: one page, one mail, per-address cap.

A module of its own, so its server's reset requests start at zero. Every request names its own
client address (`X-Forwarded-For`, which uvicorn trusts from loopback as a proxy's), so the
per-address cap holds back only the test that is about it.
"""

from __future__ import annotations

import re
import time
from email import message_from_bytes, policy

from beatbun.accounts.profile import RESET_REQUESTS_PER_IP
from tests.conftest import LiveServer
from tests.mail_waits import wait_for_mail
from tests.visitors import Visitor, outbox, sign_up
from tests.web.forgot_password import Asker, interleaved, many_known, new_email

PAIRS = 20


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
    emails = [new_email() for _ in range(count)]
    for email in emails:
        assert sign_up(Visitor(server.url), email).status_code == 303
    return emails


def test_known_and_unknown_addresses_get_the_same_page_and_only_known_ones_mail(
    shared_live_server: LiveServer,
) -> None:
    # Whether both answer in the same time is measured by bench/forgot_password_bench.py.
    server = shared_live_server
    known = many_known(server, PAIRS)
    asker = Asker(server)
    pages: set[str] = set()
    unknown: set[str] = set()
    try:
        for kind, email in interleaved(known):
            if kind == "unknown":
                unknown.add(email)
            response, _ = asker.ask(email)
            assert response.status_code == 200
            pages.add(_strip(response.text))
    finally:
        asker.close()
    assert len(pages) == 1
    # The known side really did the mailing work, and the unknown side none.
    mailed = _recipients(server, until=set(known))
    assert set(known) <= mailed and not unknown & mailed


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
