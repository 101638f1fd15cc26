"""Building an export: the zip's contents against the published schema, real audio stored as it
is, the zip written in parts, and builds that fail or die halfway leaving nothing behind."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import cast

import httpx
import jsonschema  # type: ignore[import-untyped]
import pytest
import soundfile  # type: ignore[import-untyped]

from beatbun.accounts.apikeys import create_api_key
from beatbun.accounts.sessions import create_session
from beatbun.consent.models import Choice
from beatbun.consent.service import account_subject, record_choice
from beatbun.privacy.archive import zip_upload
from beatbun.privacy.export import (
    CLAIM_SECONDS,
    MAX_ATTEMPTS,
    build_pending_exports,
    export_key,
    request_export,
)
from beatbun.privacy.exportschema import SCHEMA_PATH
from beatbun.privacy.requests import find_request
from beatbun.runtime.base import MIN_PART_BYTES, BlobStore
from beatbun.tracks.deletion import delete_track
from beatbun.tracks.service import rename_track
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, clone_track, create_verified_account
from tests.fakes import ManualClock
from tests.privacy.exporting import (
    WatchedBlobStore,
    confirmed_session,
    download,
    ready_export,
    with_blobs,
)
from tests.tracks.conftest import make_tracks
from tests.tracks.faults import Crash

MIB = 1024 * 1024


def _parts_left(runtime: LocalRuntime) -> list[str]:
    """Files of multipart uploads neither completed nor aborted, in the local bucket."""
    return os.listdir(runtime.state_dir / "r2" / "AUDIO" / "parts")


async def _status(runtime: LocalRuntime, account_id: str, request_id: str) -> str:
    request = await find_request(runtime.db, account_id, request_id)
    assert request is not None
    return request.status


async def test_export_zip_validates_against_the_published_schema_and_holds_every_track(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    account = await create_verified_account(runtime)
    tracks = await make_tracks(runtime, account_id=account.id, count=3)
    gone = await delete_track(runtime, account_id=account.id, track_id=tracks[2].id)
    live = tracks[:2]
    await create_api_key(
        runtime.db, account_id=account.id, name="laptop", scopes=["read"], now=runtime.clock.now()
    )
    await record_choice(
        runtime.db,
        subject=account_subject(account.id),
        choice=Choice(performance=True),
        source="banner",
        gpc=False,
        now=runtime.clock.now(),
    )
    session = await confirmed_session(runtime, account)

    archive = await download(
        runtime, account, session, await ready_export(runtime, account, session)
    )

    names = set(archive.namelist())
    audio = {f"tracks/{track.id}-{track.slug}.wav" for track in live}
    details = {f"tracks/{track.id}.json" for track in live}
    assert names == {"README.txt", "data.json", "schema.json", "summary.html"} | audio | details
    published = await client.get(SCHEMA_PATH)
    assert published.status_code == 200
    schema = published.json()
    assert json.loads(archive.read("schema.json")) == schema
    jsonschema.Draft202012Validator.check_schema(schema)
    data = json.loads(archive.read("data.json"))
    jsonschema.Draft202012Validator(schema).validate(data)
    for track in live:
        name = f"tracks/{track.id}-{track.slug}.wav"
        assert track.slug.startswith("test-track-")
        assert archive.getinfo(name).compress_type == zipfile.ZIP_STORED
        stored = await runtime.blobs.get(track.blob_key)
        assert stored is not None and archive.read(name) == stored.body
        samples, rate = soundfile.read(io.BytesIO(archive.read(name)))
        assert (rate, samples.shape) == (44100, (5 * 44100, 2))
        detail = json.loads(archive.read(f"tracks/{track.id}.json"))
        assert (detail["title"], detail["audio_file"]) == (track.title, name)
        jsonschema.Draft202012Validator(schema["$defs"]["Track"]).validate(detail)
    for name in names - audio:
        assert archive.getinfo(name).compress_type == zipfile.ZIP_DEFLATED
    by_id = {track["id"]: track for track in data["tracks"]}
    assert by_id[gone.id]["audio_file"] is None and by_id[gone.id]["deleted_at"]
    assert by_id[live[0].id]["plan"] == live[0].plan
    assert {job["track_id"] for job in data["generation_jobs"]} == {t.id for t in tracks}
    assert data["billing"]["credit_ledger"] and data["billing"]["wallet"]["plan"] == "free"
    assert data["api_keys"][0]["name"] == "laptop"
    assert data["current_cookie_choice"]["performance"] is True
    assert "export_requested" in [event["kind"] for event in data["security_log"]]
    assert data["privacy_requests"][0]["status"] == "building"
    assert "We are preparing your Beat Bun data export" in [e["subject"] for e in data["emails"]]
    summary = archive.read("summary.html").decode()
    assert all(track.title in summary for track in tracks)


async def test_export_holds_no_secret_of_the_account(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    _, api_secret = await create_api_key(
        runtime.db, account_id=account.id, name="ci", scopes=["read"], now=runtime.clock.now()
    )
    _, session_token = await create_session(
        runtime.db, account_id=account.id, stage="full", client=CLIENT, now=runtime.clock.now()
    )
    session = await confirmed_session(runtime, account)
    secrets = (
        await runtime.db.prepare(
            "SELECT a.password_hash, k.key_hash FROM accounts AS a"
            " JOIN api_keys AS k ON k.account_id = a.id WHERE a.id = ?"
        )
        .bind(account.id)
        .raw()
    )[0]
    token_hashes = (
        await runtime.db.prepare("SELECT token_hash FROM sessions WHERE account_id = ?")
        .bind(account.id)
        .raw()
    )

    archive = await download(
        runtime, account, session, await ready_export(runtime, account, session)
    )

    everything = b"".join(archive.read(name) for name in archive.namelist())
    for secret in [*secrets, *(row[0] for row in token_hashes), api_secret, session_token]:
        assert str(secret).encode() not in everything


async def test_export_of_a_track_whose_audio_is_gone_lists_it_without_audio(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    (track,) = await make_tracks(runtime, account_id=account.id, count=1)
    await runtime.blobs.delete(track.blob_key)
    session = await confirmed_session(runtime, account)

    archive = await download(
        runtime, account, session, await ready_export(runtime, account, session)
    )

    assert not [name for name in archive.namelist() if name.endswith(".wav")]
    detail = json.loads(archive.read(f"tracks/{track.id}.json"))
    assert detail["audio_file"] is None


async def test_export_summary_and_readme_are_in_the_language_asked_in(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    session = await confirmed_session(runtime, account)
    request = await request_export(runtime, account, session, client=CLIENT, language="de")
    await build_pending_exports(runtime)

    archive = await download(runtime, account, session, request.id)

    summary = archive.read("summary.html").decode()
    assert '<html lang="de">' in summary
    assert "<h1>Deine Daten bei Beat Bun</h1>" in summary
    assert archive.read("README.txt").decode().startswith("Deine Daten bei Beat Bun")


async def test_export_summary_escapes_what_people_typed(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    (track,) = await make_tracks(runtime, account_id=account.id, count=1)
    await rename_track(
        runtime, account_id=account.id, track_id=track.id, title="<script>alert(1)</script>"
    )
    session = await confirmed_session(runtime, account)

    archive = await download(
        runtime, account, session, await ready_export(runtime, account, session)
    )

    summary = archive.read("summary.html").decode()
    assert "<script>" not in summary
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in summary
    assert f"tracks/{track.id}-script-alert-1-script.wav" in archive.namelist()


async def _pieces(total: int) -> AsyncIterator[bytes]:
    """`total` bytes that do not compress, a MiB at a time, as a blob stream gives them."""
    for start in range(0, total, MIB):
        yield os.urandom(min(MIB, total - start))


async def test_zip_upload_writes_parts_as_they_fill_and_never_more_than_a_part(
    runtime: LocalRuntime,
) -> None:
    watched = WatchedBlobStore(runtime.blobs)
    when = datetime(2027, 1, 15, tzinfo=UTC)

    async with zip_upload(
        cast(BlobStore, watched), "zips/a.zip", part_bytes=MIN_PART_BYTES
    ) as upload:
        await upload.add_stream("big.bin", _pieces(12 * MIB), size=12 * MIB, when=when)
        await upload.add_text("note.txt", b"hello " * 1000, when=when)

    assert upload.stored is not None
    assert watched.parts_stored == 3
    assert max(watched.written) == MIN_PART_BYTES
    stored = await runtime.blobs.get("zips/a.zip")
    assert stored is not None and stored.body is not None
    assert sum(watched.written) == stored.size == upload.stored.size
    archive = zipfile.ZipFile(io.BytesIO(stored.body))
    assert archive.testzip() is None
    assert archive.getinfo("big.bin").file_size == 12 * MIB
    assert archive.read("note.txt") == b"hello " * 1000


async def test_zip_upload_left_by_an_exception_stores_nothing(runtime: LocalRuntime) -> None:
    when = datetime(2027, 1, 15, tzinfo=UTC)

    with pytest.raises(ValueError, match="stop"):
        async with zip_upload(runtime.blobs, "zips/b.zip", part_bytes=MIN_PART_BYTES) as upload:
            await upload.add_stream("big.bin", _pieces(12 * MIB), size=12 * MIB, when=when)
            raise ValueError("stop")

    assert await runtime.blobs.head("zips/b.zip") is None
    assert _parts_left(runtime) == []


async def test_export_build_failing_after_a_part_stores_nothing_and_the_retry_finishes(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime, email="many@example.com")
    (track,) = await make_tracks(runtime, account_id=account.id, count=1)
    await clone_track(runtime, track, copies=11)  # 12 x 0.88 MB: more than one 8 MiB part
    session = await confirmed_session(runtime, account)
    request = await request_export(runtime, account, session, client=CLIENT, language="en")
    failing = WatchedBlobStore(runtime.blobs, fail_at_part=2)

    assert await build_pending_exports(with_blobs(runtime, failing)) == 0

    assert failing.parts_stored == 1
    assert await _status(runtime, account.id, request.id) == "pending"
    assert await runtime.blobs.head(export_key(account.id, request.id)) is None
    assert _parts_left(runtime) == []
    assert await build_pending_exports(runtime) == 1
    archive = await download(runtime, account, session, request.id)
    assert len([name for name in archive.namelist() if name.endswith(".wav")]) == 12
    assert archive.testzip() is None


async def test_export_builder_that_died_mid_build_is_taken_over_once_its_claim_is_old(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_verified_account(runtime)
    (track,) = await make_tracks(runtime, account_id=account.id, count=1)
    await clone_track(runtime, track, copies=11)
    session = await confirmed_session(runtime, account)
    request = await request_export(runtime, account, session, client=CLIENT, language="en")
    dying = WatchedBlobStore(runtime.blobs, fail_at_part=2, failure=Crash)

    with pytest.raises(Crash):
        await build_pending_exports(with_blobs(runtime, dying))

    assert await _status(runtime, account.id, request.id) == "building"
    assert await runtime.blobs.head(export_key(account.id, request.id)) is None
    assert await build_pending_exports(runtime) == 0  # the claim still holds
    clock.advance(CLAIM_SECONDS)
    assert await build_pending_exports(runtime) == 1
    assert await _status(runtime, account.id, request.id) == "ready"


async def test_export_failing_every_attempt_is_failed_and_the_person_told(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    (track,) = await make_tracks(runtime, account_id=account.id, count=1)
    await clone_track(runtime, track, copies=11)
    session = await confirmed_session(runtime, account)
    request = await request_export(runtime, account, session, client=CLIENT, language="en")
    failing = with_blobs(runtime, WatchedBlobStore(runtime.blobs, fail_at_part=1))

    for _ in range(MAX_ATTEMPTS):
        assert await build_pending_exports(failing) == 0

    assert await _status(runtime, account.id, request.id) == "failed"
    subjects = (
        await runtime.db.prepare("SELECT subject FROM mail_queue WHERE recipient = ?")
        .bind(account.email)
        .raw()
    )
    assert ["Your Beat Bun data export could not be made"] in subjects
    assert await build_pending_exports(runtime) == 0
    assert await runtime.blobs.head(export_key(account.id, request.id)) is None


async def test_export_ready_is_mailed_with_the_day_it_is_deleted(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    session = await confirmed_session(runtime, account)
    request_id = await ready_export(runtime, account, session)

    request = await find_request(runtime.db, account.id, request_id)
    assert request is not None and request.due_at == int(runtime.clock.now()) + 7 * 86400
    assert request.blob_key == export_key(account.id, request_id)
    stored = await runtime.blobs.head(request.blob_key)
    assert stored is not None and request.size == stored.size
    body = (
        await runtime.db.prepare("SELECT body FROM mail_queue WHERE recipient = ? AND subject = ?")
        .bind(account.email, "Your Beat Bun data export is ready")
        .first("body")
    )
    assert "until 2027-01-22 08:00 (UTC)" in str(body)
    assert "http://127.0.0.1:8787/account/privacy" in str(body)
