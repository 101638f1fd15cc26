"""The generation API over HTTP against the real local server (the built-in composer renders)."""

from __future__ import annotations

import re
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.visitors import Visitor, signed_in

NEW_KEY = re.compile(r'id="new-api-key">(bbk_[^<]+)<')
SHORT = {"prompt": "dark techno", "duration_seconds": 5, "seed": 3}


def api_key_of(visitor: Visitor, *, scopes: tuple[str, ...] = ("generate", "read")) -> str:
    page = visitor.post(
        "/account/api-keys",
        {"name": "tests", "scopes": list(scopes)},
        csrf_from="/account/api-keys",
    )  # type: ignore[dict-item]
    found = NEW_KEY.search(page.text)
    assert found, page.text
    return found.group(1)


def api(server: LiveServer, key: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def wait_for(client: httpx.Client, job_id: str, *, seconds: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/api/v1/generations/{job_id}").json()
        if job["status"] in ("succeeded", "failed", "canceled"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"Job {job_id} did not finish in {seconds} s")


def ledger_is_consistent(state_dir: Path) -> bool:
    with sqlite3.connect(state_dir / "d1" / "DB.sqlite") as db:
        (mismatches,) = db.execute(
            "SELECT count(*) FROM wallets w WHERE balance !="
            " (SELECT coalesce(sum(amount), 0) FROM credit_ledger l WHERE l.account_id = w.account_id)"
        ).fetchone()
        (orphans,) = db.execute(
            "SELECT (SELECT count(*) FROM jobs WHERE id NOT IN (SELECT job_id FROM credit_ledger WHERE kind = 'debit'))"
            " + (SELECT count(*) FROM credit_ledger WHERE kind = 'debit' AND job_id NOT IN (SELECT id FROM jobs))"
        ).fetchone()
    return mismatches == 0 and orphans == 0


@pytest.fixture
def server(shared_live_server: LiveServer) -> LiveServer:
    return shared_live_server


def test_prompt_to_playable_and_downloadable_track(server: LiveServer) -> None:
    key = api_key_of(signed_in(server.url, server.state_dir, "flow@example.com"))
    with api(server, key) as client:
        started = time.monotonic()
        created = client.post(
            "/api/v1/generations", json=SHORT, headers={"Idempotency-Key": "flow-1"}
        )
        assert created.status_code == 201, created.text
        assert created.headers["location"] == f"/api/v1/generations/{created.json()['id']}"
        job = wait_for(client, created.json()["id"])
        print(f"submit to playable: {time.monotonic() - started:.2f} s")
        assert job["status"] == "succeeded" and job["plan"]["genre"] == "techno"
        track = client.get(f"/api/v1/tracks/{job['track_id']}").json()
        assert track["retention"] == "free" and track["seconds_left"] > 13 * 86400
        audio = client.get(track["audio_url"])
        assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
        assert audio.content[:4] == b"RIFF" and len(audio.content) == track["size_bytes"]
        assert audio.headers["content-disposition"].startswith("inline;")
        part = client.get(track["audio_url"], headers={"Range": "bytes=0-99"})
        assert part.status_code == 206 and len(part.content) == 100
        assert part.headers["content-range"] == f"bytes 0-99/{track['size_bytes']}"
        download = client.get(track["audio_url"], params={"download": "true"})
        assert download.headers["content-disposition"].startswith(
            'attachment; filename="dark-techno-'
        )


def test_same_idempotency_key_twice_returns_the_same_job_and_charges_once(
    server: LiveServer,
) -> None:
    key = api_key_of(signed_in(server.url, server.state_dir, "retry@example.com"))
    with api(server, key) as client:
        first = client.post(
            "/api/v1/generations", json=SHORT, headers={"Idempotency-Key": "retry-1"}
        )
        second = client.post(
            "/api/v1/generations", json=SHORT, headers={"Idempotency-Key": "retry-1"}
        )
        assert (first.status_code, second.status_code) == (201, 200)
        assert first.json()["id"] == second.json()["id"]
        ledger = client.get("/api/v1/credits").json()["ledger"]
        assert [entry["kind"] for entry in ledger].count("debit") == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"prompt": "x", "duration_seconds": 900}, 422, "duration_out_of_range"),
        ({"prompt": "", "duration_seconds": 10}, 422, "empty_prompt"),
        ({"prompt": "ballad", "key": "H#"}, 422, "unknown_key"),
        ({"prompt": "a song sung by Taylor Swift"}, 422, "artist_imitation"),
        ({"prompt": "x", "bpm": "fast"}, 422, "invalid_bpm"),
        ([1, 2, 3], 422, "invalid_request"),  # not an object at all
    ],
)
def test_bad_request_is_a_clear_error_and_charges_nothing(
    server: LiveServer, body: Any, status: int, code: str
) -> None:
    key = api_key_of(signed_in(server.url, server.state_dir, f"bad-{code}@example.com"))
    with api(server, key) as client:
        response = client.post("/api/v1/generations", json=body)
        assert response.status_code == status
        assert response.json()["error"] == code and response.json()["message"]
        assert [e["kind"] for e in client.get("/api/v1/credits").json()["ledger"]] == ["grant"]


def test_read_only_key_cannot_generate(server: LiveServer) -> None:
    key = api_key_of(
        signed_in(server.url, server.state_dir, "reader@example.com"), scopes=("read",)
    )
    with api(server, key) as client:
        response = client.post("/api/v1/generations", json=SHORT)
        assert response.status_code == 403 and response.json()["error"] == "insufficient_scope"


def test_another_users_jobs_tracks_and_audio_are_not_found(server: LiveServer) -> None:
    owner = signed_in(server.url, server.state_dir, "owner@example.com")
    stranger = signed_in(server.url, server.state_dir, "stranger@example.com")
    with api(server, api_key_of(owner)) as mine, api(server, api_key_of(stranger)) as theirs:
        job = wait_for(mine, mine.post("/api/v1/generations", json=SHORT).json()["id"])
        track_id = job["track_id"]
        for path in (
            f"/api/v1/generations/{job['id']}",
            f"/api/v1/tracks/{track_id}",
            f"/api/v1/tracks/{track_id}/audio",
        ):
            assert theirs.get(path).status_code == 404, path
        assert theirs.post(f"/api/v1/generations/{job['id']}/cancel").status_code == 404
        assert theirs.delete(f"/api/v1/tracks/{track_id}").status_code == 404
    for path in (f"/tracks/{track_id}", f"/tracks/{track_id}/audio"):
        assert stranger.get(path).status_code == 404, path
    assert owner.get(f"/tracks/{track_id}/audio").status_code == 200


def test_fifty_simultaneous_submissions_against_ten_credits_accept_exactly_ten(
    server: LiveServer,
) -> None:
    visitor = signed_in(server.url, server.state_dir, "rush@example.com")
    key = api_key_of(visitor)
    with api(server, key) as client:
        client.get("/api/v1/credits")
        account_id = client.get("/api/v1/me").json()["id"]
    _set_balance(server.state_dir, account_id, 10)

    def submit(n: int) -> int:
        with api(server, key) as client:
            return client.post(
                "/api/v1/generations",
                json={**SHORT, "seed": n},
                headers={"Idempotency-Key": f"rush-{n}"},
            ).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(submit, range(50)))
    assert (statuses.count(201), statuses.count(402)) == (10, 40)
    with api(server, key) as client:
        assert client.get("/api/v1/credits").json()["balance"] == 0
    assert ledger_is_consistent(server.state_dir)


def _set_balance(state_dir: Path, account_id: str, balance: int) -> None:
    """An operator's adjustment, recorded in the ledger like any other."""
    with sqlite3.connect(state_dir / "d1" / "DB.sqlite") as db:
        (current,) = db.execute(
            "SELECT balance FROM wallets WHERE account_id = ?", (account_id,)
        ).fetchone()
        db.execute(
            "INSERT INTO credit_ledger (account_id, kind, amount, balance_after, note, created_at)"
            " VALUES (?, 'adjustment', ?, ?, 'test', ?)",
            (account_id, balance - current, balance, int(time.time())),
        )
        db.execute("UPDATE wallets SET balance = ? WHERE account_id = ?", (balance, account_id))


def test_stopping_the_server_mid_job_ends_it_completed_or_refunded(tmp_path: Path) -> None:
    live = LiveServer(tmp_path / "state", tmp_path / "server.log")
    live.start()
    key = api_key_of(signed_in(live.url, live.state_dir, "crash@example.com"))
    with api(live, key) as client:
        jobs = [
            client.post(
                "/api/v1/generations", json={**SHORT, "duration_seconds": 120, "seed": n}
            ).json()["id"]
            for n in range(2)
        ]
        deadline = time.monotonic() + 20
        while client.get(f"/api/v1/generations/{jobs[0]}").json()["status"] == "queued":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    live.kill()
    live.start()
    with api(live, key) as client:
        finished = [wait_for(client, job_id, seconds=60) for job_id in jobs]
        assert {job["status"] for job in finished} <= {"succeeded", "failed"}
        ledger = client.get("/api/v1/credits").json()["ledger"]
        for job in finished:
            refunds = [e for e in ledger if e["kind"] == "refund" and e["job_id"] == job["id"]]
            assert len(refunds) == (1 if job["status"] == "failed" else 0)
    live.stop()
    assert ledger_is_consistent(live.state_dir)
