"""`GenerationRequest` is the one validator: every refusal has one code, worded by us."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from beatbun.errors import InvalidInput
from beatbun.generation.models import (
    CHECKS,
    INVALID_VALUE,
    NOT_AN_OBJECT,
    REFUSALS,
    GenerationRequest,
)

# Every text a validation error may carry: pydantic's own `msg` has no translations.
OUR_WORDS = {*REFUSALS.values(), *CHECKS.values(), INVALID_VALUE, NOT_AN_OBJECT}

# (body, code, field): shared with the HTTP test, which sends each body to the API.
BAD_REQUESTS: list[tuple[Any, str, str | None]] = [
    ({"prompt": ""}, "empty_prompt", "prompt"),
    ({"prompt": "   \n"}, "empty_prompt", "prompt"),  # whitespace only is empty
    ({"duration_seconds": 30}, "empty_prompt", "prompt"),  # absent is as blank
    ({"prompt": "x" * 2001}, "prompt_too_long", "prompt"),  # was invalid_prompt on one path
    ({"prompt": "x", "duration_seconds": 4.99}, "duration_out_of_range", "duration_seconds"),
    ({"prompt": "x", "duration_seconds": 300.5}, "duration_out_of_range", "duration_seconds"),
    ({"prompt": "x", "duration_seconds": "long"}, "invalid_duration_seconds", "duration_seconds"),
    ({"prompt": "x", "key": "H"}, "unknown_key", "key"),  # German B is not accepted
    ({"prompt": "x", "key": "E#"}, "unknown_key", "key"),  # enharmonic oddities are refused
    ({"prompt": "x", "key": "A lydian"}, "unknown_key", "key"),
    ({"prompt": "x", "key": "C" * 40}, "unknown_key", "key"),  # no separate length code
    ({"prompt": "x", "mode": "dorian"}, "unknown_mode", "mode"),
    ({"prompt": "x", "key": "Am", "mode": "major"}, "conflicting_mode", "mode"),
    ({"prompt": "x", "bpm": 20}, "bpm_out_of_range", "bpm"),
    ({"prompt": "x", "bpm": "fast"}, "invalid_bpm", "bpm"),
    ({"prompt": "x", "seed": -1}, "seed_out_of_range", "seed"),
    ({"prompt": "x", "seed": 1.5}, "invalid_seed", "seed"),
    ({"prompt": "x", "genres": [""]}, "invalid_genre", "genres"),
    ({"prompt": "x", "genres": ["pop"] * 9}, "invalid_genre", "genres"),  # was invalid_genres
    ({"prompt": "x", "genres": [3]}, "invalid_genres.0", "genres.0"),
    ({"prompt": "x", "genres": ["pop", "zydeco-core"]}, "unknown_genre", "genres"),
    ({"prompt": "x", "mood": "bureaucratic"}, "unknown_mood", "mood"),
    ({"prompt": "x", "mood": "m" * 41}, "invalid_mood", "mood"),
    ({"prompt": "x", "lyrics": "l" * 3001}, "invalid_lyrics", "lyrics"),
    ({"prompt": "x", "volume": 11}, "unknown_field", "volume"),
    ({"prompt": "x", "extends_seconds": 30}, "unknown_field", "extends_seconds"),  # ours to set
    ({"prompt": "x", "source_track_id": "t"}, "unknown_field", "source_track_id"),
    ([1, 2, 3], "invalid_request", None),  # not an object at all
]


@pytest.mark.parametrize(("body", "code", "field"), BAD_REQUESTS)
def test_bad_request_has_one_code_worded_by_us(body: Any, code: str, field: str | None) -> None:
    with pytest.raises(InvalidInput) as caught:
        GenerationRequest.parse(body)

    assert caught.value.status == 422
    assert (caught.value.code, caught.value.field) == (code, field)
    assert caught.value.template in OUR_WORDS
    assert not caught.value.message.startswith(f"{field}:")  # the field travels beside it


def test_refusal_keeps_its_values_apart_from_its_text() -> None:
    with pytest.raises(InvalidInput) as caught:
        GenerationRequest.parse({"prompt": "x", "duration_seconds": 900})

    assert caught.value.message == "Duration 900 s is outside 5..300 s"
    assert caught.value.template == REFUSALS["duration_out_of_range"]
    assert caught.value.params == {"value": "900", "low": "5", "high": "300"}


def test_defaults_are_an_instrumental_of_thirty_seconds() -> None:
    request = GenerationRequest.parse({"prompt": "  calm piano  "}).to_music_request()

    assert request.prompt == "calm piano"
    assert (request.duration_seconds, request.instrumental, request.seed) == (30.0, True, None)
    assert request.extends_seconds is None


@pytest.mark.parametrize(
    ("key", "mode", "tonic", "resolved_mode"),
    [
        ("A minor", None, "A", "minor"),
        ("f#m", None, "F#", "minor"),
        ("Bb", "major", "Bb", "major"),
        ("e flat major", None, "Eb", "major"),
        ("C", None, "C", None),  # a bare tonic leaves the mode to the prompt or genre
    ],
)
def test_key_is_normalized_before_the_provider_sees_it(
    key: str, mode: str | None, tonic: str, resolved_mode: str | None
) -> None:
    request = GenerationRequest.parse({"prompt": "x", "key": key, "mode": mode})

    music = request.to_music_request()
    assert (music.key, music.mode) == (tonic, resolved_mode)


def test_genre_tags_and_mood_arrive_as_catalogue_ids() -> None:
    request = GenerationRequest.parse(
        {"prompt": "x", "genres": [" Jazz ", "Soul", "R&B"], "mood": "calme"}
    )

    music = request.to_music_request()
    assert music.genres == ("jazz", "rnb")  # two words for one genre give it once
    assert music.mood == "chill"


def test_stored_request_keeps_its_derived_fields() -> None:
    stored = {"prompt": "x", "duration_seconds": 60, "extends_seconds": 30, "source_track_id": "t"}

    request = GenerationRequest.from_stored(stored)

    assert request.billed_seconds == 30
    assert request.to_music_request().extends_seconds == 30


def test_extension_of_a_fractional_length_bills_the_added_seconds_exactly() -> None:
    # (45.67 + 90) - 45.67 is 90.00000000000001 in floats: one credit more than the offer said.
    stored = {"prompt": "x", "duration_seconds": 45.67 + 90, "extends_seconds": 45.67}

    assert GenerationRequest.from_stored(stored).billed_seconds == 90


def test_fingerprint_of_a_plain_request_ignores_the_unset_derived_fields() -> None:
    plain = GenerationRequest.parse({"prompt": "x", "seed": 1})
    variation = plain.model_copy(update={"source_track_id": "t"})

    fields = plain.model_dump(exclude={"extends_seconds", "source_track_id"})
    # The hash of jobs recorded before these fields existed, so their retries still match.
    before = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    assert plain.fingerprint() == hashlib.sha256(before.encode()).hexdigest()
    assert plain.fingerprint() != variation.fingerprint()
