"""Upgrading on the real local server moves every kept track's audio, even through a kill -9."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from beatbun.generation.models import GenerationRequest
from beatbun.generation.queue import UserQueue
from beatbun.generation.service import submit_generation
from beatbun.settings import Settings
from beatbun.tracks.store import list_tracks
from beatbun_local.migrations import apply_migrations
from beatbun_local.runtime import LocalRuntime
from tests.conftest import MIGRATIONS, LiveServer, running_with_stripe
from tests.factories import clone_track, create_verified_account
from tests.generation.conftest import drain
from tests.stripe_sandbox.server import RunningSandbox
from tests.visitors import Visitor, log_in

TRACKS = 100


@pytest.fixture
def account_id(tmp_path: Path) -> str:
    """An account with 100 free-tier tracks of 30 s (5.3 MB each), made before the server starts."""
    return asyncio.run(_account_with_tracks(tmp_path / "state"))


@pytest.fixture
def payments(tmp_path: Path, account_id: str) -> Iterator[tuple[LiveServer, RunningSandbox]]:
    yield from running_with_stripe(tmp_path)


async def _account_with_tracks(state_dir: Path) -> str:
    runtime = LocalRuntime.open(
        state_dir, settings=Settings(environment="test"), user_queue=UserQueue
    )
    try:
        await apply_migrations(runtime.db, MIGRATIONS)
        account = await create_verified_account(runtime)
        request = GenerationRequest.parse({"prompt": "lo-fi", "duration_seconds": 30, "seed": 1})
        await submit_generation(
            runtime, account_id=account.id, request=request, idempotency_key=None
        )
        await drain(runtime)
        [original] = await list_tracks(runtime.db, account_id=account.id)
        await clone_track(runtime, original, copies=TRACKS - 1)
        return account.id
    finally:
        runtime.close()


def _keys(state_dir: Path, prefix: str) -> set[str]:
    with sqlite3.connect(state_dir / "r2" / "AUDIO" / "index.sqlite") as index:
        rows = index.execute("SELECT key FROM objects WHERE key LIKE ?", (prefix + "%",))
        return {row[0] for row in rows}


def _rows(state_dir: Path, account_id: str) -> list[tuple[str, str, int | None]]:
    with sqlite3.connect(state_dir / "d1" / "DB.sqlite") as db:
        return db.execute(
            "SELECT blob_key, retention, expires_at FROM tracks WHERE account_id = ?", (account_id,)
        ).fetchall()


def test_upgrade_move_survives_kill_9(
    payments: tuple[LiveServer, RunningSandbox], account_id: str
) -> None:
    server, _ = payments
    state = server.state_dir
    visitor = Visitor(server.url)
    assert log_in(visitor, "person@example.com").status_code == 303
    checkout = visitor.post("/billing/checkout", {"item": "creator"}, csrf_from="/pricing")
    assert checkout.status_code == 303, checkout.text
    card = {"cardNumber": "4242424242424242", "cardExpiry": "12/34", "cardCvc": "123"}
    assert httpx.post(checkout.headers["location"], data=card).status_code == 303

    # The webhook lifts every expiry at once; the queue then copies audio one track at a time.
    paid_prefix, free_prefix = f"tracks/paid/{account_id}/", f"tracks/free/{account_id}/"
    deadline = time.monotonic() + 60
    while not 0 < len(_keys(state, paid_prefix)) < TRACKS // 2:
        assert time.monotonic() < deadline, "the move never started"
        time.sleep(0.005)
    server.kill()
    copied_before_kill = len(_keys(state, paid_prefix))
    assert 0 < copied_before_kill < TRACKS
    assert all(expires is None for _, _, expires in _rows(state, account_id))

    server.start()
    deadline = time.monotonic() + 60
    while _keys(state, free_prefix) or any(r != "paid" for _, r, _ in _rows(state, account_id)):
        assert time.monotonic() < deadline, "the move did not finish after the restart"
        time.sleep(0.2)

    rows = _rows(state, account_id)
    assert len(rows) == TRACKS
    # Every row names stored audio, and nothing is stored that no row names.
    assert {key for key, _, _ in rows} == _keys(state, "tracks/")
    visitor = Visitor(server.url)
    assert log_in(visitor, "person@example.com").status_code == 303
    for key, _, _ in rows:
        track_id = key.rsplit("/", 1)[1].removesuffix(".wav")
        audio = visitor.get(f"/tracks/{track_id}/audio", headers={"Range": "bytes=0-11"})
        assert audio.status_code == 206
        assert audio.content[:4] == b"RIFF"
