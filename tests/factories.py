"""Builders for test data, made through the same services the routes call."""

from __future__ import annotations

from beatbun.accounts.models import Account, Client
from beatbun.accounts.service import SignUpForm, sign_up
from beatbun.accounts.store import find_account_by_email
from beatbun.runtime.base import Runtime

PASSWORD = "correct horse battery staple"
CLIENT = Client(ip="192.0.2.10", user_agent="TestBrowser/1.0")


async def create_account(runtime: Runtime, *, email: str = "person@example.com") -> Account:
    """An adult account with `PASSWORD`, signed up as a visitor would (not yet verified)."""
    form = SignUpForm(
        email=email, password=PASSWORD, display_name="Test Person", birth_date="1990-05-04"
    )
    await sign_up(runtime, form, client=CLIENT)
    account = await find_account_by_email(runtime.db, email)
    if account is None:
        raise RuntimeError(f"Sign-up did not create an account for {email!r}.")
    return account


async def create_verified_account(
    runtime: Runtime, *, email: str = "person@example.com"
) -> Account:
    """An adult account whose email is confirmed, so it may spend credits."""
    account = await create_account(runtime, email=email)
    await (
        runtime.db.prepare("UPDATE accounts SET email_verified_at = ? WHERE id = ?")
        .bind(int(runtime.clock.now()), account.id)
        .run()
    )
    return account
