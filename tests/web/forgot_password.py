"""Forgotten-password requests as many visitors make them: shared by the HTTP tests and the
timing benchmark (bench/forgot_password_bench.py)."""

from __future__ import annotations

import itertools
import sqlite3
import time
import uuid
from collections.abc import Iterator

import httpx

from tests.conftest import LiveServer
from tests.visitors import Visitor

ADDRESSES = (f"10.{a}.{b}.7" for a, b in itertools.product(range(1, 250), range(1, 250)))


def new_email() -> str:
    return f"{uuid.uuid4().hex[:12]}@example.com"


def many_known(server: LiveServer, count: int) -> list[str]:
    """Accounts written straight into the server's D1 file: signing up each costs a KDF run."""
    emails = [new_email() for _ in range(count)]
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
        headers = {"X-Forwarded-For": ip or next(ADDRESSES)}
        form = {"email": email, "csrf_token": self._token}
        started = time.perf_counter()
        response = self._client.post("/forgot-password", data=form, headers=headers)
        return response, time.perf_counter() - started

    def close(self) -> None:
        self._client.close()


def interleaved(known: list[str]) -> Iterator[tuple[str, str]]:
    """(kind, email) pairs, known first and unknown first in turn, so order cancels out."""
    for number, email in enumerate(known):
        pair = [("known", email), ("unknown", new_email())]
        yield from pair if number % 2 == 0 else reversed(pair)
