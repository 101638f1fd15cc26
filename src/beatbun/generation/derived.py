"""Extend a finished track, or make a variation of it: each a new generation, paid as one.

An extension is the track's own request with everything its plan resolved pinned (genre,
tempo, key, mode, seed), a longer duration and `extends_seconds` set to the old length, so the
provider renders the same music up to the join and new sections after it. A variation is the
same request with a new seed. Both name their source in `source_track_id`.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from beatbun.accounts.models import Account
from beatbun.billing.pricing import price_in_credits
from beatbun.errors import InvalidInput, NotFound
from beatbun.generation.composer.plan import COMPOSER_VERSION
from beatbun.generation.models import GenerationRequest
from beatbun.generation.provider import MAX_DURATION_SECONDS, MAX_SEED
from beatbun.generation.registry import provider_capabilities, provider_name
from beatbun.generation.service import Submission, submit_as
from beatbun.generation.store import get_job
from beatbun.i18n import N_
from beatbun.privacy.purposes import require_may_generate
from beatbun.runtime.base import Runtime
from beatbun.settings import Settings
from beatbun.tracks.models import Track
from beatbun.tracks.remix import settings_of
from beatbun.tracks.store import get_track

MIN_EXTEND_SECONDS = 15
MAX_EXTEND_SECONDS = 120
# What the track page and the library offer; the API takes any length between.
EXTEND_CHOICES = (15, 30, 60, 90, 120)


def extension_offers(settings: Settings, track: Track) -> tuple[tuple[int, int], ...]:
    """(seconds added, credits) of each offered extension `extend_track` would accept.

    Empty when the track cannot be extended. The composer sings nothing, so no lyrics price.
    """
    if _extend_refusal(settings, track) is not None:
        return ()
    return tuple(
        (seconds, price_in_credits(duration_seconds=seconds, has_lyrics=False))
        for seconds in EXTEND_CHOICES
        if track.duration_seconds + seconds <= MAX_DURATION_SECONDS
    )


async def extend_track(
    runtime: Runtime,
    *,
    account: Account,
    track_id: str,
    seconds: float,
    idempotency_key: str | None,
) -> Submission:
    """Queue a continuation of the track by `seconds`, charged for those seconds alone.

    Raises ProcessingRestricted (`account_restricted`) first, NotFound (not the account's
    track), InvalidInput (`extend_unsupported`, `already_extended`, `plan_outdated`,
    `extend_length_out_of_range`, `extended_too_long`), then whatever `submit_as` raises.
    """
    require_may_generate(account)
    track = await get_track(runtime.db, account_id=account.id, track_id=track_id)
    refusal = _extend_refusal(runtime.settings, track)
    if refusal is not None:
        raise refusal
    if not MIN_EXTEND_SECONDS <= seconds <= MAX_EXTEND_SECONDS:
        raise InvalidInput(
            N_("A track can be extended by %(low)s to %(high)s s, not %(value)s s."),
            code="extend_length_out_of_range",
            field="seconds",
            params={"low": MIN_EXTEND_SECONDS, "high": MAX_EXTEND_SECONDS, "value": f"{seconds:g}"},
        )
    settings = await _settings(runtime, track)
    original = float(settings["duration_seconds"])
    if original + seconds > MAX_DURATION_SECONDS:
        raise InvalidInput(
            N_("An extended track may last at most %(limit)s s; this one would last %(total)s s."),
            code="extended_too_long",
            field="seconds",
            params={"limit": f"{MAX_DURATION_SECONDS:g}", "total": f"{original + seconds:g}"},
        )
    request = GenerationRequest.from_stored(
        {
            **settings,
            "seed": track.seed,
            "duration_seconds": original + seconds,
            "extends_seconds": original,
            "source_track_id": track.id,
        }
    )
    return await submit_as(
        runtime, account=account, request=request, idempotency_key=idempotency_key
    )


async def vary_track(
    runtime: Runtime, *, account: Account, track_id: str, idempotency_key: str | None
) -> Submission:
    """Queue the track's settings again with a new seed, charged as a new track of its length.

    The seed comes from the idempotency key when there is one, so a retry is the same request.
    Raises ProcessingRestricted (`account_restricted`) first, NotFound (not the account's
    track), InvalidInput (`variation_unsupported`), then whatever `submit_as` raises.
    """
    require_may_generate(account)
    track = await get_track(runtime.db, account_id=account.id, track_id=track_id)
    if not provider_capabilities(runtime.settings).supports_variations:
        raise InvalidInput(
            N_("The music model in use cannot make variations of a track."),
            code="variation_unsupported",
        )
    settings = await _settings(runtime, track)
    request = GenerationRequest.from_stored(
        {
            **settings,
            "seed": _new_seed(track, idempotency_key=idempotency_key),
            "source_track_id": track.id,
        }
    )
    return await submit_as(
        runtime, account=account, request=request, idempotency_key=idempotency_key
    )


def _extend_refusal(settings: Settings, track: Track) -> InvalidInput | None:
    """Why the track cannot be continued with its own plan, or None when it can."""
    if not provider_capabilities(settings).supports_extend or (
        track.plan.get("provider") != provider_name(settings)
    ):
        return InvalidInput(
            N_("Only tracks of the built-in composer can be extended."),
            code="extend_unsupported",
        )
    source = track.plan.get("source")
    if isinstance(source, dict) and source.get("kind") == "extension":
        # Its plan is the original's sections plus a continuation, which a request of its
        # length alone would not lay out again.
        return InvalidInput(
            N_("An extended track cannot be extended again. Extend the original by more."),
            code="already_extended",
        )
    if track.plan.get("composer_version") != COMPOSER_VERSION:
        return InvalidInput(
            N_(
                "This track was made by an earlier version of the composer, which cannot "
                "continue it. Make a variation instead."
            ),
            code="plan_outdated",
        )
    return None


async def recorded_request(runtime: Runtime, track: Track) -> dict[str, Any] | None:
    """The request `track` was made from, while its job is on record."""
    try:
        job = await get_job(runtime.db, account_id=track.account_id, job_id=track.job_id)
    except NotFound:
        return None
    return job.request


async def _settings(runtime: Runtime, track: Track) -> dict[str, Any]:
    """The track's settings with what its plan resolved pinned, so the same plan comes out."""
    requested = await recorded_request(runtime, track)
    settings = settings_of(track, requested=requested)
    if requested is None:
        # `settings_of` rounds a length it reads off the audio; the join needs it exact.
        settings["duration_seconds"] = track.duration_seconds
    bpm = track.plan.get("bpm")
    pinned = {
        "genres": [track.genre] if track.genre else None,
        "bpm": bpm if isinstance(bpm, int | float) else None,
        "key": track.tonic,
        "mode": track.mode,
    }
    settings.update({name: value for name, value in pinned.items() if value is not None})
    return settings


def _new_seed(track: Track, *, idempotency_key: str | None) -> int:
    if idempotency_key is None:
        seed = secrets.randbelow(MAX_SEED + 1)
    else:
        digest = hashlib.sha256(f"{track.id}:{idempotency_key}".encode()).digest()
        seed = int.from_bytes(digest[:4], "big")
    # A variation never repeats its source.
    return (seed + 1) % (MAX_SEED + 1) if seed == track.seed else seed


async def find_source(runtime: Runtime, track: Track) -> tuple[str, Track] | None:
    """("extension" or "variation", the track it was made from), while that one exists."""
    source = track.plan.get("source")
    if not isinstance(source, dict):
        return None
    try:
        found = await get_track(
            runtime.db, account_id=track.account_id, track_id=str(source.get("track_id"))
        )
    except NotFound:
        return None
    return str(source.get("kind")), found
