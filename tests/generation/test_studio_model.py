"""The studio's model: the spending rule in the service, the published rules, the prompt's reading."""

from __future__ import annotations

import pytest

from beatbun.billing.credits import get_wallet
from beatbun.billing.pricing import price_in_credits
from beatbun.errors import PermissionDenied
from beatbun.generation.models import GenerationRequest
from beatbun.generation.service import list_generations, submit_as
from beatbun.generation.studio import publish_rules, request_from_form, resolve_request
from beatbun.settings import Settings
from beatbun_local.runtime import LocalRuntime
from tests.factories import create_account, create_verified_account

REQUEST = GenerationRequest.parse({"prompt": "sunny pop", "duration_seconds": 5})


async def test_submit_as_an_unverified_account_is_refused_and_charges_nothing(
    runtime: LocalRuntime,
) -> None:
    account = await create_account(runtime)
    before = (await get_wallet(runtime.db, account.id)).balance
    with pytest.raises(PermissionDenied) as refused:
        await submit_as(runtime, account=account, request=REQUEST, idempotency_key=None)
    assert refused.value.code == "email_unverified"
    assert (await get_wallet(runtime.db, account.id)).balance == before
    assert await list_generations(runtime, account_id=account.id) == []


async def test_submit_as_a_verified_account_queues_the_job(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    submission = await submit_as(runtime, account=account, request=REQUEST, idempotency_key=None)
    assert submission.created and submission.job.cost == 1


def test_published_prices_follow_the_price_rule_they_are_given() -> None:
    settings = Settings.from_env({})
    billed = publish_rules(settings)
    doubled = publish_rules(settings, price=lambda **request: 2 * price_in_credits(**request))
    assert doubled.prices == [2 * price for price in billed.prices]
    assert billed.prices[0] == price_in_credits(
        duration_seconds=billed.duration_min, has_lyrics=False
    )


def test_published_rules_offer_lyric_prices_only_where_lyrics_can_be_made() -> None:
    composer = publish_rules(Settings.from_env({}))
    singer = publish_rules(Settings.from_env({"ELEVENLABS_API_KEY": "sk-test"}))
    assert (composer.lyrics_allowed, composer.lyrics_prices) == (False, None)
    assert singer.lyrics_allowed and singer.lyrics_prices == [
        price_in_credits(duration_seconds=seconds, has_lyrics=True)
        for seconds in range(singer.duration_min, singer.duration_max + 1)
    ]


def test_a_chosen_genre_tag_wins_and_no_rule_is_reported() -> None:
    data = request_from_form({"prompt": "reggaeton"}, genres=["jazz"], instruments=[])
    resolution = resolve_request(GenerationRequest.parse(data), language="en")
    assert (resolution.genre, resolution.genre_rule, resolution.notes) == ("jazz", None, [])


def test_the_resolution_reads_tempo_as_a_whole_number() -> None:
    data = request_from_form({"prompt": "trap at 141.6 bpm"}, genres=[], instruments=[])
    resolution = resolve_request(GenerationRequest.parse(data), language="en")
    assert (resolution.genre, resolution.bpm) == ("hiphop", 142)


def test_the_resolution_lists_each_phrase_with_what_it_set() -> None:
    data = request_from_form(
        {"prompt": "sad piano ballad about rain in D minor, 70 bpm"}, genres=[], instruments=[]
    )
    resolution = resolve_request(GenerationRequest.parse(data), language="en")
    assert [(item.word, item.kind, item.label) for item in resolution.understood] == [
        ("sad", "mood", "Sad"),
        ("piano", "instrument", "Piano"),
        ("ballad", "genre", "Solo piano"),
        ("D minor", "key", "D minor"),
        ("70 bpm", "bpm", "70 BPM"),
    ]
    assert resolution.unknown == ["rain"]
    assert resolution.notes == ["Not understood: rain."]


def test_checked_instrument_chips_are_understood_as_their_instruments() -> None:
    data = request_from_form(
        {"prompt": "a tune"}, genres=[], instruments=["strings", "electric_piano"]
    )
    resolution = resolve_request(GenerationRequest.parse(data), language="en")
    assert [item.value for item in resolution.understood] == ["strings", "electric_piano"]
    assert (resolution.genre, resolution.genre_rule) == ("cinematic", "instrument:strings")


@pytest.mark.parametrize(
    ("language", "prompt", "note"),
    [
        ("en", "something calm", "No genre named; chose lo-fi to suit the mood: chill."),
        (
            "de",
            "ruhiges Klavier, 70 bpm",
            "Kein Genre genannt; gewählt wurde Solo-Klavier, weil du Klavier wolltest.",
        ),
        (
            "fr",
            "quelque chose à 174 bpm",
            "Aucun genre indiqué ; choix : drum and bass, pour un tempo de 174 BPM.",
        ),
        ("en", "a tune", "No genre named; chose pop, the default."),
    ],
)
def test_a_request_naming_no_genre_says_which_rule_chose_one(
    language: str, prompt: str, note: str
) -> None:
    data = request_from_form({"prompt": prompt}, genres=[], instruments=[])
    resolution = resolve_request(GenerationRequest.parse(data), language=language)
    assert resolution.notes[0] == note
