"""A failed login does the same D1 work whether or not the email has an account."""

from __future__ import annotations

from typing import Any

import pytest

from beatbun.accounts.service import InvalidCredentials, log_in
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, create_verified_account


class _Calls:
    """The D1 calls made through the runtime's database: ("batch", n) or ("run" | "all" | ...)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.made: list[tuple[str, int]] = []

    def prepare(self, sql: str) -> Any:
        return _Statement(self, self.inner.prepare(sql))

    async def batch(self, statements: list[Any]) -> Any:
        self.made.append(("batch", len(statements)))
        return await self.inner.batch([statement.inner for statement in statements])


class _Statement:
    def __init__(self, calls: _Calls, inner: Any) -> None:
        self.calls = calls
        self.inner = inner

    def bind(self, *params: Any) -> _Statement:
        return _Statement(self.calls, self.inner.bind(*params))

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls.made.append((name, 1))
            return await method(*args, **kwargs)

        return counted


async def _failed_login_calls(runtime: LocalRuntime, email: str) -> list[tuple[str, int]]:
    calls = _Calls(runtime.db)
    runtime.db = calls  # type: ignore[assignment]
    try:
        with pytest.raises(InvalidCredentials):
            await log_in(
                runtime,
                email=email,
                password="not the password",
                client=CLIENT,
                previous_token=None,
            )
    finally:
        runtime.db = calls.inner
    return calls.made


async def test_failed_login_runs_the_same_calls_for_known_and_unknown_emails(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    known = await _failed_login_calls(runtime, account.email)
    unknown = await _failed_login_calls(runtime, "nobody@example.com")
    assert known == unknown
    logged = await runtime.db.prepare(
        "SELECT count(*) AS n FROM security_events WHERE kind = 'login_failed'"
    ).first("n")
    assert logged == 1  # the known account's failure, and nothing for the unknown email
