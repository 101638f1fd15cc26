"""Builders for test data, made through the same services the routes call."""

from __future__ import annotations

import uuid

from beatbun.accounts.models import Account, Client
from beatbun.accounts.registration import SignUpForm, sign_up
from beatbun.accounts.store import find_account_by_email
from beatbun.billing.credits import Note, take_back_statements
from beatbun.runtime.base import Runtime
from beatbun.tracks.models import Track, blob_key_for

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
    verified = await find_account_by_email(runtime.db, email)
    if verified is None:
        raise RuntimeError(f"The account of {email!r} disappeared.")
    return verified


async def clone_track(runtime: Runtime, original: Track, *, copies: int) -> list[str]:
    """`copies` more tracks like `original`, each with its own copy of the audio; their ids."""
    stored = await runtime.blobs.get(original.blob_key)
    if stored is None or stored.body is None:
        raise RuntimeError(f"Track {original.id!r} has no audio to copy.")
    made = []
    for _ in range(copies):
        track_id = uuid.uuid4().hex
        key = blob_key_for(
            retention=original.retention, account_id=original.account_id, track_id=track_id
        )
        await runtime.blobs.put(
            key,
            stored.body,
            http_metadata=stored.http_metadata,
            custom_metadata=stored.custom_metadata,
        )
        await (
            runtime.db.prepare(
                "INSERT INTO tracks (id, account_id, job_id, title, prompt, plan, media_type,"
                " duration_seconds, size_bytes, blob_key, peaks, retention, created_at, expires_at,"
                " licence, licence_plan, licensed_at, genre) SELECT ?, account_id, ?, title, prompt,"
                " plan, media_type, duration_seconds, size_bytes, ?, peaks, retention, created_at,"
                " expires_at, licence, licence_plan, licensed_at, genre FROM tracks WHERE id = ?"
            )
            .bind(track_id, uuid.uuid4().hex, key, original.id)
            .run()
        )
        made.append(track_id)
    return made


async def spend(runtime: Runtime, account_id: str, *, amount: int) -> None:
    """Take `amount` credits off the balance with a ledger row, as making tracks would."""
    await runtime.db.batch(
        take_back_statements(
            runtime.db,
            account_id=account_id,
            amount=amount,
            idempotency_key=f"test:spend:{uuid.uuid4().hex}",
            note=Note("Spent"),
            now=runtime.clock.now(),
        )
    )
