"""The studio's page model: its choices, its published rules, the form read as a request, and
what a prompt resolves to before anyone pays for it.

The rules the page publishes (lengths, tempo range, whether lyrics are possible, the price of
every length) are computed here from `MusicRequest`'s limits and `billing.pricing`, so the page's
script prices a track with the server's own numbers instead of a copy of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from beatbun.accounts.models import Account
from beatbun.billing.pricing import price_in_credits
from beatbun.generation.composer.prompt import find_unmade_genres, resolve_plan
from beatbun.generation.composer.provider import SAMPLE_RATE, Composer
from beatbun.generation.composer.styles import GENRES
from beatbun.generation.models import MAX_LYRICS_CHARS, GenerationRequest, Job
from beatbun.generation.provider import (
    DEFAULT_DURATION_SECONDS,
    MAX_BPM,
    MAX_DURATION_SECONDS,
    MAX_PROMPT_CHARS,
    MIN_BPM,
    MIN_DURATION_SECONDS,
)
from beatbun.generation.providers.elevenlabs import provider_name
from beatbun.generation.service import list_generations, queue_snapshot
from beatbun.i18n import N_, translate
from beatbun.runtime.base import Runtime
from beatbun.settings import Settings

# What the form sends -> what it shows.
MOOD_CHOICES = {
    "chill": N_("Chill"),
    "happy": N_("Happy"),
    "sad": N_("Sad"),
    "dark": N_("Dark"),
    "epic": N_("Epic"),
    "dreamy": N_("Dreamy"),
    "energetic": N_("Energetic"),
    "romantic": N_("Romantic"),
}
NEUTRAL_MOOD = N_("Neutral")
INSTRUMENT_CHOICES = {
    "piano": N_("Piano"),
    "guitar": N_("Guitar"),
    "strings": N_("Strings"),
    "synth": N_("Synth"),
    "pads": N_("Pads"),
    "bass": N_("Bass"),
    "brass": N_("Brass"),
    "drums": N_("Drums"),
}
UNMADE_GENRE = N_("We don't make %(word)s yet; this will sound like %(style)s.")
JOBS_SHOWN = 10

PriceRule = Callable[..., int]


class StudioRules(BaseModel):
    """The limits and prices the page's script checks and shows, as the server applies them.

    `prices[i]` is the price of `duration_min + i` whole seconds without lyrics, and
    `lyrics_prices[i]` with lyrics (None when lyrics cannot be made). A length in between
    costs what its next whole second costs.
    """

    duration_min: int
    duration_max: int
    duration_default: int
    bpm_min: int
    bpm_max: int
    prompt_max_chars: int
    lyrics_max_chars: int
    lyrics_allowed: bool
    prices: list[int]
    lyrics_prices: list[int] | None


class UnmadeGenre(BaseModel):
    word: str
    nearest: str
    message: str


class Resolution(BaseModel):
    """What the composer will make of the studio form, shown before it is paid for."""

    genre: str
    genre_label: str
    bpm: int
    key: str
    mode: str
    mood: str
    mood_label: str
    duration_seconds: int
    sources: dict[str, str]
    unmade: list[UnmadeGenre]


@dataclass(frozen=True)
class StudioPage:
    jobs: list[Job]
    # Queue position of each waiting job, by job id.
    positions: dict[str, int]
    last_seq: int
    rules: StudioRules
    cost: int
    can_spend: bool


def publish_rules(settings: Settings, *, price: PriceRule = price_in_credits) -> StudioRules:
    """The studio's rules for `settings`, priced by `price` (the billing rule unless told)."""
    low, high = int(MIN_DURATION_SECONDS), math.ceil(MAX_DURATION_SECONDS)
    lyrics_allowed = provider_name(settings) != Composer.name
    seconds = range(low, high + 1)
    return StudioRules(
        duration_min=low,
        duration_max=high,
        duration_default=int(DEFAULT_DURATION_SECONDS),
        bpm_min=int(MIN_BPM),
        bpm_max=int(MAX_BPM),
        prompt_max_chars=MAX_PROMPT_CHARS,
        lyrics_max_chars=MAX_LYRICS_CHARS,
        lyrics_allowed=lyrics_allowed,
        prices=[price(duration_seconds=s, has_lyrics=False) for s in seconds],
        lyrics_prices=[price(duration_seconds=s, has_lyrics=True) for s in seconds]
        if lyrics_allowed
        else None,
    )


async def studio_page(
    runtime: Runtime, *, account: Account, values: Mapping[str, str]
) -> StudioPage:
    """The account's queue and the rules, with the price of what `values` asks for."""
    snapshot = await queue_snapshot(runtime, account_id=account.id)
    jobs = await list_generations(runtime, account_id=account.id, limit=JOBS_SHOWN)
    return StudioPage(
        jobs=jobs,
        positions={job["job_id"]: job["position"] for job in snapshot["jobs"]},
        last_seq=snapshot["seq"],
        rules=publish_rules(runtime.settings),
        cost=price_in_credits(duration_seconds=_duration_of(values), has_lyrics=False),
        can_spend=account.can_spend_credits,
    )


def request_from_form(
    values: Mapping[str, str], *, genres: Sequence[Any], instruments: Sequence[Any]
) -> dict[str, Any]:
    """The studio form as the API's JSON body: blanks mean 'not given', checkboxes are lists."""
    data: dict[str, Any] = {
        name: value.strip()
        for name, value in values.items()
        if name in GenerationRequest.model_fields and value.strip() != ""
    }
    data["genres"] = [str(genre) for genre in genres]
    data["instruments"] = [str(instrument) for instrument in instruments]
    data["instrumental"] = not data.get("lyrics")
    return data


def resolve_request(request: GenerationRequest, *, language: str) -> Resolution:
    """What the built-in composer's reading of `request` decides, in `language`.

    Raises InvalidInput for a value out of range, as submitting it would.
    """
    music = request.to_music_request()
    plan = resolve_plan(music, sample_rate=SAMPLE_RATE)
    mood_label = MOOD_CHOICES.get(plan.mood, NEUTRAL_MOOD)
    named_genres = {genre for tag in request.genres if (genre := tag.lower()) in GENRES}
    unmade = [
        UnmadeGenre(
            word=word,
            nearest=nearest,
            message=translate(
                language,
                UNMADE_GENRE,
                {
                    "word": _genre_word(word, language),
                    "style": _in_sentence(GENRES[nearest].label, language),
                },
            ),
        )
        for word, nearest in find_unmade_genres(request.prompt)
        if not named_genres
    ]
    return Resolution(
        genre=plan.genre,
        genre_label=translate(language, plan.genre_label),
        bpm=round(plan.bpm),
        key=plan.key.tonic,
        mode=plan.key.mode,
        mood=plan.mood if plan.mood in MOOD_CHOICES else "",
        mood_label=translate(language, mood_label),
        duration_seconds=round(music.duration_seconds),
        sources=dict(plan.sources),
        unmade=unmade,
    )


def _in_sentence(label: str, language: str) -> str:
    """A genre's name inside a sentence: a common noun, so lower case, except in German."""
    text = translate(language, label)
    return text if language == "de" else text.lower()


def _genre_word(word: str, language: str) -> str:
    """A catalogue word as written in `language`: German capitalises nouns ("Bossa Nova")."""
    if language != "de":
        return word
    return " ".join(part if part == "and" else part[:1].upper() + part[1:] for part in word.split())


def _duration_of(values: Mapping[str, str]) -> float:
    """The typed length within the allowed range, for the price beside the form.

    The form may come back with an error about this very field ("abc", "nan", "900"): those
    price as the default or the nearest limit rather than failing the page.
    """
    try:
        duration = float(values.get("duration_seconds") or DEFAULT_DURATION_SECONDS)
    except ValueError:
        return DEFAULT_DURATION_SECONDS
    if math.isnan(duration):
        return DEFAULT_DURATION_SECONDS
    return min(max(duration, MIN_DURATION_SECONDS), MAX_DURATION_SECONDS)
