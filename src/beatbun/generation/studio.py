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
from beatbun.generation.catalogue import GENRES, INSTRUMENTS, MOODS, NEUTRAL_MOOD
from beatbun.generation.composer.plan import CompositionPlan
from beatbun.generation.composer.prompt import resolve_plan
from beatbun.generation.composer.provider import SAMPLE_RATE
from beatbun.generation.composer.reading import Hit, read_text
from beatbun.generation.models import MAX_LYRICS_CHARS, GenerationRequest, Job
from beatbun.generation.provider import (
    DEFAULT_DURATION_SECONDS,
    MAX_BPM,
    MAX_DURATION_SECONDS,
    MAX_PROMPT_CHARS,
    MIN_BPM,
    MIN_DURATION_SECONDS,
)
from beatbun.generation.registry import provider_capabilities
from beatbun.generation.service import list_generations, queue_snapshot
from beatbun.i18n import N_, translate
from beatbun.runtime.base import Runtime
from beatbun.settings import Settings

# Why the composer chose a genre when the request named none, by `CompositionPlan.genre_rule`.
GENRE_RULE_NOTES = {
    "instrument": N_("No genre named; chose %(genre)s because you asked for %(what)s."),
    "mood": N_("No genre named; chose %(genre)s to suit the mood: %(what)s."),
    "tempo": N_("No genre named; chose %(genre)s to suit %(what)s BPM."),
    "default": N_("No genre named; chose %(genre)s, the default."),
}
UNKNOWN_WORDS = N_("Not understood: %(words)s.")
BPM_LABEL = N_("%(bpm)s BPM")
SLOWER = N_("slower")
FASTER = N_("faster")
MAJOR = N_("major")
MINOR = N_("minor")
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


class Understood(BaseModel):
    """A phrase of the prompt and what it set: `kind` is genre, mood, instrument, bpm, tempo,
    key or mode; `label` says the value in the reader's language."""

    word: str
    kind: str
    value: str
    label: str


class Resolution(BaseModel):
    """What the composer will make of the studio form, shown before it is paid for.

    `understood` lists the phrases that set something, `unknown` the words nothing understood,
    `genre_rule` the rule that chose the genre when none was named (see `composer.prompt`),
    and `notes` says both in the reader's language.
    """

    genre: str
    genre_label: str
    bpm: int
    key: str
    mode: str
    mood: str
    mood_label: str
    duration_seconds: int
    sources: dict[str, str]
    understood: list[Understood]
    unknown: list[str]
    genre_rule: str | None
    notes: list[str]


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
    lyrics_allowed = provider_capabilities(settings).supports_lyrics
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
    notes = [] if plan.genre_rule is None else [_genre_note(plan.genre_rule, plan, language)]
    if plan.unknown:
        notes.append(translate(language, UNKNOWN_WORDS, {"words": ", ".join(plan.unknown)}))
    return Resolution(
        genre=plan.genre,
        genre_label=translate(language, plan.genre_label),
        bpm=round(plan.bpm),
        key=plan.key.tonic,
        mode=plan.key.mode,
        mood=plan.mood if plan.mood in MOODS else "",
        mood_label=translate(language, MOODS.get(plan.mood, NEUTRAL_MOOD).label),
        duration_seconds=round(music.duration_seconds),
        sources=dict(plan.sources),
        understood=[
            Understood(word=hit.text, kind=hit.kind, value=hit.value, label=_label(hit, language))
            for hit in read_text(music.prompt).hits
        ],
        unknown=list(plan.unknown),
        genre_rule=plan.genre_rule,
        notes=notes,
    )


def _genre_note(rule: str, plan: CompositionPlan, language: str) -> str:
    kind, _, value = rule.partition(":")
    what = value
    if kind == "instrument":
        what = _in_sentence(INSTRUMENTS[value].label, language)
    elif kind == "mood":
        what = _in_sentence(MOODS[value].label, language)
    return translate(
        language,
        GENRE_RULE_NOTES[kind],
        {"genre": _in_sentence(plan.genre_label, language), "what": what},
    )


def _label(hit: Hit, language: str) -> str:
    """What a phrase set, in `language`: a genre, mood or instrument's name, a tempo, a key."""
    if hit.kind == "genre":
        return translate(language, GENRES[hit.value].label)
    if hit.kind == "mood":
        return translate(language, MOODS[hit.value].label)
    if hit.kind == "instrument":
        return translate(language, INSTRUMENTS[hit.value].label)
    if hit.kind == "bpm":
        return translate(language, BPM_LABEL, {"bpm": hit.value})
    if hit.kind == "tempo":
        return translate(language, SLOWER if hit.value == "slower" else FASTER)
    tonic, _, mode = hit.value.partition(" ")
    modes = {"major": MAJOR, "minor": MINOR}
    if hit.kind == "mode":
        return translate(language, modes[tonic])
    return " ".join([tonic, *([translate(language, modes[mode])] if mode else [])])


def _in_sentence(label: str, language: str) -> str:
    """A name inside a sentence: a common noun, so lower case, except in German."""
    text = translate(language, label)
    return text if language == "de" else text.lower()


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
