"""Buying a track's exports: charged once, made, stored beside the audio, refunded on failure."""

from __future__ import annotations

import asyncio
import io
import json

import mido  # type: ignore[import-untyped]
import numpy as np
import pytest
import soundfile  # type: ignore[import-untyped]

from beatbun.accounts.models import Account
from beatbun.billing.credits import charge, get_wallet, list_entries
from beatbun.errors import (
    ConstraintViolation,
    ExportUnavailable,
    InsufficientCredits,
    NotFound,
    RuntimeFailure,
)
from beatbun.runtime.base import Runtime
from beatbun.tracks import exports as exports_module
from beatbun.tracks.exports import (
    STALE_SECONDS,
    buy_export,
    get_export,
    refund_stale_exports,
)
from beatbun.tracks.exportstore import TrackExport, find_export, insert_export_statement
from beatbun.tracks.models import STEMS, Track, export_key_for
from beatbun_local.runtime import LocalRuntime
from tests.factories import create_verified_account, spend
from tests.fakes import ManualClock
from tests.tracks.conftest import make_tracks, stored_keys


@pytest.fixture
async def owner(runtime: LocalRuntime) -> Account:
    return await create_verified_account(runtime)


@pytest.fixture
async def track(runtime: LocalRuntime, owner: Account) -> Track:
    (made,) = await make_tracks(runtime, account_id=owner.id, count=1)
    return made


async def _body(runtime: Runtime, key: str) -> bytes:
    stored = await runtime.blobs.get(key)
    assert stored is not None and stored.body is not None, key
    return stored.body


async def _exports_stored(runtime: Runtime, track: Track) -> set[str]:
    """The keys stored beside the track's audio."""
    return await stored_keys(runtime, prefix=f"{track.blob_key.removesuffix('.wav')}.") - {
        track.blob_key
    }


async def _ledger(runtime: Runtime, account_id: str) -> list[tuple[str, int, str | None]]:
    return [
        (entry.kind, entry.amount, entry.job_id)
        for entry in reversed(await list_entries(runtime.db, account_id))
    ]


async def test_buy_flac_charges_once_and_stores_lossless_audio(
    runtime: LocalRuntime, owner: Account, track: Track
) -> None:
    before = (await get_wallet(runtime.db, owner.id)).balance
    purchase = await buy_export(runtime, account=owner, track_id=track.id, kind="flac")
    assert purchase.created and purchase.export.status == "ready"
    assert (await get_wallet(runtime.db, owner.id)).balance == before - 1
    assert (await _ledger(runtime, owner.id))[-1] == ("debit", -1, purchase.export.id)
    flac = await _body(runtime, export_key_for(track.blob_key, kind="flac"))
    assert purchase.export.size_bytes == len(flac)
    decoded, rate = soundfile.read(io.BytesIO(flac), dtype="int16")
    wav, _ = soundfile.read(io.BytesIO(await _body(runtime, track.blob_key)), dtype="int16")
    assert rate == 44100 and np.array_equal(decoded, wav)


async def test_buy_again_returns_the_export_and_charges_nothing(
    runtime: LocalRuntime, owner: Account, track: Track
) -> None:
    first = await buy_export(runtime, account=owner, track_id=track.id, kind="midi")
    balance = (await get_wallet(runtime.db, owner.id)).balance
    again = await buy_export(runtime, account=owner, track_id=track.id, kind="midi")
    assert not again.created and again.export.id == first.export.id
    assert (await get_wallet(runtime.db, owner.id)).balance == balance


async def test_buy_concurrently_charges_once(
    runtime: LocalRuntime, owner: Account, track: Track
) -> None:
    before = (await get_wallet(runtime.db, owner.id)).balance
    purchases = await asyncio.gather(
        *(buy_export(runtime, account=owner, track_id=track.id, kind="stems") for _ in range(3))
    )
    assert sorted(purchase.created for purchase in purchases) == [False, False, True]
    assert len({purchase.export.id for purchase in purchases}) == 1
    assert (await get_wallet(runtime.db, owner.id)).balance == before - 1
    debits = [row for row in await _ledger(runtime, owner.id) if row[0] == "debit"]
    assert debits[-1][2] == purchases[0].export.id and len(debits) == 2  # the track and this


async def test_buy_midi_is_the_score(runtime: LocalRuntime, owner: Account, track: Track) -> None:
    await buy_export(runtime, account=owner, track_id=track.id, kind="midi")
    midi = mido.MidiFile(
        file=io.BytesIO(await _body(runtime, export_key_for(track.blob_key, kind="midi")))
    )
    tempos = [
        message.tempo for part in midi.tracks for message in part if message.type == "set_tempo"
    ]
    assert tempos and round(mido.tempo2bpm(tempos[0])) == track.bpm
    assert sum(message.type == "note_on" for part in midi.tracks for message in part) > 0


async def test_buy_stems_stores_five_wavs_of_the_track_length(
    runtime: LocalRuntime, owner: Account, track: Track
) -> None:
    purchase = await buy_export(runtime, account=owner, track_id=track.id, kind="stems")
    frames = soundfile.info(io.BytesIO(await _body(runtime, track.blob_key))).frames
    total = 0
    for stem in STEMS:
        body = await _body(runtime, export_key_for(track.blob_key, kind="stems", stem=stem))
        total += len(body)
        assert soundfile.info(io.BytesIO(body)).frames == frames
    assert purchase.export.size_bytes == total
    # The five stems as they were charged: stems of a 5 s track cost one credit.
    assert purchase.export.cost == 1


async def test_buy_unavailable_export_charges_nothing(
    runtime: LocalRuntime, owner: Account, track: Track
) -> None:
    await runtime.db.prepare(
        "UPDATE tracks SET plan = json_set(plan, '$.composer_version', 1)"
    ).run()
    before = await _ledger(runtime, owner.id)
    with pytest.raises(ExportUnavailable) as raised:
        await buy_export(runtime, account=owner, track_id=track.id, kind="stems")
    assert raised.value.code == "export_unavailable" and raised.value.status == 409
    assert await _ledger(runtime, owner.id) == before
    assert (
        await find_export(runtime.db, account_id=owner.id, track_id=track.id, kind="stems") is None
    )
    # FLAC is made from the audio alone, so it still works.
    assert (await buy_export(runtime, account=owner, track_id=track.id, kind="flac")).created


async def test_buy_without_credits_is_refused_and_leaves_no_row(
    runtime: LocalRuntime, owner: Account, track: Track
) -> None:
    await spend(runtime, owner.id, amount=(await get_wallet(runtime.db, owner.id)).balance)
    with pytest.raises(InsufficientCredits):
        await buy_export(runtime, account=owner, track_id=track.id, kind="flac")
    assert (
        await find_export(runtime.db, account_id=owner.id, track_id=track.id, kind="flac") is None
    )
    assert await _exports_stored(runtime, track) == set()


async def test_buy_someone_elses_track_is_not_found(
    runtime: LocalRuntime, owner: Account, track: Track
) -> None:
    other = await create_verified_account(runtime, email="other@example.com")
    before = await _ledger(runtime, other.id)
    with pytest.raises(NotFound):
        await buy_export(runtime, account=other, track_id=track.id, kind="flac")
    assert await _ledger(runtime, other.id) == before


async def test_charge_batch_for_a_deleted_track_aborts_whole(
    runtime: LocalRuntime, owner: Account, track: Track
) -> None:
    """The guard: a row naming a track that is not the buyer's live track aborts its debit."""
    await runtime.db.prepare("UPDATE tracks SET deleted_at = 1").run()
    before = await _ledger(runtime, owner.id)
    with pytest.raises(ConstraintViolation) as raised:
        await _charge_only(runtime, owner, track, export_id="e" * 32)
    assert raised.value.kind == "NOT NULL"
    assert await _ledger(runtime, owner.id) == before


async def test_failed_export_is_refunded_once_and_can_be_bought_again(
    runtime: LocalRuntime, owner: Account, track: Track
) -> None:
    audio = await _body(runtime, track.blob_key)
    await runtime.blobs.delete(track.blob_key)
    before = (await get_wallet(runtime.db, owner.id)).balance
    with pytest.raises(NotFound) as raised:
        await buy_export(runtime, account=owner, track_id=track.id, kind="flac")
    assert raised.value.code == "audio_gone"
    assert (await get_wallet(runtime.db, owner.id)).balance == before
    kinds = [row[0] for row in await _ledger(runtime, owner.id)]
    assert kinds[-2:] == ["debit", "refund"]
    status = await runtime.db.prepare("SELECT status, error_code FROM track_exports").first()
    assert status == {"status": "failed", "error_code": "audio_gone"}
    assert await _exports_stored(runtime, track) == set()
    await runtime.blobs.put(track.blob_key, audio)
    assert (await buy_export(runtime, account=owner, track_id=track.id, kind="flac")).created
    assert (await get_wallet(runtime.db, owner.id)).balance == before - 1


async def test_cron_refunds_a_stale_pending_export_once(
    runtime: LocalRuntime, owner: Account, track: Track, clock: ManualClock
) -> None:
    # A request that charged, then died before it made the export.
    export = await _charge_only(runtime, owner, track, export_id="d" * 32)
    balance = (await get_wallet(runtime.db, owner.id)).balance
    assert await refund_stale_exports(runtime) == 0  # not stale yet
    clock.advance(STALE_SECONDS + 1)
    assert await refund_stale_exports(runtime) == 1
    assert await refund_stale_exports(runtime) == 0
    assert (await get_wallet(runtime.db, owner.id)).balance == balance + 1
    assert [row[0] for row in await _ledger(runtime, owner.id)][-1] == "refund"
    row = (
        await runtime.db.prepare("SELECT status FROM track_exports WHERE id = ?")
        .bind(export.id)
        .first()
    )
    assert row == {"status": "failed"}


async def test_download_needs_a_ready_export(
    runtime: LocalRuntime, owner: Account, track: Track
) -> None:
    with pytest.raises(NotFound) as raised:
        await get_export(runtime, account_id=owner.id, track_id=track.id, kind="flac")
    assert raised.value.code == "export_not_found"
    await buy_export(runtime, account=owner, track_id=track.id, kind="stems")
    with pytest.raises(NotFound):
        await get_export(
            runtime, account_id=owner.id, track_id=track.id, kind="stems", stem="vocals"
        )
    _, stored, key = await get_export(
        runtime, account_id=owner.id, track_id=track.id, kind="stems", stem="bass"
    )
    assert key.endswith(".stems/bass.wav") and stored.http_metadata.content_type == "audio/wav"


async def test_ledger_notes_name_the_export(
    runtime: LocalRuntime, owner: Account, track: Track
) -> None:
    await buy_export(runtime, account=owner, track_id=track.id, kind="flac")
    entry = (await list_entries(runtime.db, owner.id))[0]
    assert entry.note.text == "Export: flac"
    assert json.loads(json.dumps(dict(entry.note.params))) == {"kind": "flac"}


async def _charge_only(
    runtime: Runtime, owner: Account, track: Track, *, export_id: str
) -> TrackExport:
    """Charge for a FLAC export and record it pending, as `buy_export` does before making it."""
    now = runtime.clock.now()
    export = _pending(owner, track, export_id=export_id, now=now)
    assert await charge(
        runtime.db,
        account_id=owner.id,
        amount=1,
        job_id=export.id,
        idempotency_key=f"export:{export.id}",
        along_with=insert_export_statement(runtime.db, export),
        now=now,
    )
    return export


def _pending(owner: Account, track: Track, *, export_id: str, now: float) -> TrackExport:
    return TrackExport(
        id=export_id,
        account_id=owner.id,
        track_id=track.id,
        kind="flac",
        status="pending",
        cost=1,
        size_bytes=0,
        error_code=None,
        created_at=int(now),
        finished_at=None,
    )


async def test_an_unexpected_failure_is_refunded_and_told_plainly(
    runtime: LocalRuntime, owner: Account, track: Track, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> int:
        raise OSError("disk on fire")

    monkeypatch.setattr(exports_module, "store_export", broken)
    before = (await get_wallet(runtime.db, owner.id)).balance
    with pytest.raises(RuntimeFailure) as raised:
        await buy_export(runtime, account=owner, track_id=track.id, kind="midi")
    assert raised.value.code == "export_failed"
    assert "refunded" in raised.value.message and "disk" not in raised.value.message
    assert (await get_wallet(runtime.db, owner.id)).balance == before
    status = await runtime.db.prepare("SELECT status, error_code FROM track_exports").first()
    assert status == {"status": "failed", "error_code": "export_failed"}
