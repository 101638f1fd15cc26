"""The studio's model: the spending rule in the service, the published rules, the prompt's reading."""

from __future__ import annotations

import pytest

from beatbun.billing.credits import get_wallet
from beatbun.billing.pricing import price_in_credits
from beatbun.errors import PermissionDenied
from beatbun.generation.composer.prompt import find_genre, find_unmade_genres
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


@pytest.mark.parametrize(
    ("text", "genre", "unmade"),
    [
        ("reggaeton at 95 bpm", "pop", (("reggaeton", "pop"),)),
        ("smooth bossa nova", "jazz", (("bossa nova", "jazz"),)),
        # A genre we make wins over one we do not, wherever it stands.
        ("reggaeton meets jazz", "jazz", (("reggaeton", "pop"),)),
        ("k-pop anthem", "pop", (("k-pop", "pop"),)),
        # Words inside other words are not genres: "dancehall" is not "dance".
        ("dancehall riddim", "hiphop", (("dancehall", "hiphop"),)),
        ("lo-fi hip hop", "lofi", ()),
    ],
)
def test_genres_we_do_not_make_are_named_with_their_nearest_style(
    text: str, genre: str, unmade: tuple[tuple[str, str], ...]
) -> None:
    assert find_genre(text) == genre
    assert find_unmade_genres(text) == unmade


def test_a_chosen_genre_tag_silences_the_not_made_message() -> None:
    data = request_from_form({"prompt": "reggaeton"}, genres=["jazz"], instruments=[])
    resolution = resolve_request(GenerationRequest.parse(data), language="en")
    assert (resolution.genre, resolution.unmade) == ("jazz", [])


def test_the_resolution_reads_tempo_as_a_whole_number() -> None:
    data = request_from_form({"prompt": "trap at 141.6 bpm"}, genres=[], instruments=[])
    resolution = resolve_request(GenerationRequest.parse(data), language="en")
    assert (resolution.genre, resolution.bpm) == ("hiphop", 142)


@pytest.mark.parametrize(
    ("language", "prompt", "message"),
    [
        (
            "de",
            "drum and bass",
            "Drum and Bass machen wir noch nicht; das klingt dann nach Techno.",
        ),
        ("de", "bossa nova", "Bossa Nova machen wir noch nicht; das klingt dann nach Jazz."),
        ("en", "k-pop", "We don't make k-pop yet; this will sound like pop."),
    ],
)
def test_a_genre_we_do_not_make_is_named_as_the_language_writes_it(
    language: str, prompt: str, message: str
) -> None:
    data = request_from_form({"prompt": prompt}, genres=[], instruments=[])
    resolution = resolve_request(GenerationRequest.parse(data), language=language)
    assert [item.message for item in resolution.unmade] == [message]
