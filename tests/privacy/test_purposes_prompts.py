"""The prompt-use purpose: the operators' "What people ask for" panel counts only the prompts of
accounts that neither object to it nor restricted processing, and shows only shared words."""

from __future__ import annotations

import re

import httpx
import pytest

from beatbun.accounts.models import Account
from beatbun.accounts.store import get_account
from beatbun.analytics.prompts import MIN_ACCOUNTS, PANEL_DAYS, PromptWord, top_prompt_words
from beatbun.generation.models import GenerationRequest
from beatbun.generation.service import submit_generation
from beatbun.privacy.objections import Objections, set_objections
from beatbun.privacy.restriction import restrict
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, create_verified_account
from tests.fakes import ManualClock
from tests.privacy.members import member

PROMPT_USE = Objections(analytics=False, marketing=False, prompt_use=True)


async def _people(runtime: LocalRuntime, n: int) -> list[Account]:
    return [await create_verified_account(runtime, email=f"p{i}@example.com") for i in range(n)]


async def _ask(runtime: LocalRuntime, account: Account, prompt: str, **fields: object) -> None:
    request = GenerationRequest.from_stored({"prompt": prompt, "duration_seconds": 5, **fields})
    await submit_generation(runtime, account_id=account.id, request=request, idempotency_key=None)


async def _words(runtime: LocalRuntime) -> dict[str, PromptWord]:
    return {w.word: w for w in await top_prompt_words(runtime.db, now=runtime.clock.now())}


async def test_a_word_needs_enough_different_accounts_to_show(runtime: LocalRuntime) -> None:
    people = await _people(runtime, MIN_ACCOUNTS)
    for person in people:
        await _ask(runtime, person, "dreamy piano")
    # One account asking many times is still one account.
    for _ in range(5):
        await _ask(runtime, people[0], "violin solo")
    words = await _words(runtime)
    assert words["piano"] == PromptWord("piano", uses=3, accounts=3)
    assert "violin" not in words and "solo" not in words


async def test_words_are_lower_cased_split_at_punctuation_and_filtered(
    runtime: LocalRuntime,
) -> None:
    prompts = [
        "Über-chill LO-FI, with Rain!",
        "über-chill lo-fi (rain) and 120 bpm",
        "ÜBER-CHILL lo-fi; rain: the song for my cat",
    ]
    for person, prompt in zip(await _people(runtime, 3), prompts, strict=True):
        await _ask(runtime, person, prompt)
    words = await _words(runtime)
    assert set(words) == {"über-chill", "lo-fi", "rain"}
    # "with", "and", "the", "song", "for" are stop words; "my" is too short; "120" a number.
    assert all(w.uses == 3 for w in words.values())


async def test_an_objection_to_prompt_use_removes_the_accounts_words(
    runtime: LocalRuntime,
) -> None:
    people = await _people(runtime, 4)
    for person in people:
        await _ask(runtime, person, "warm synthwave")
    for person in people[:3]:
        await _ask(runtime, person, "dark cello")
    before = await _words(runtime)
    assert before["synthwave"].accounts == 4 and before["cello"].accounts == 3
    await set_objections(runtime, people[0], PROMPT_USE, client=CLIENT, language="en")
    after = await _words(runtime)
    assert after["synthwave"] == PromptWord("synthwave", uses=3, accounts=3)
    assert "cello" not in after  # two accounts left: too few to show
    withdrawn = await get_account(runtime.db, people[0].id)
    await set_objections(
        runtime, withdrawn, Objections(False, False, False), client=CLIENT, language="en"
    )
    assert (await _words(runtime))["cello"].accounts == 3


async def test_a_restriction_removes_the_accounts_words(runtime: LocalRuntime) -> None:
    people = await _people(runtime, 3)
    for person in people:
        await _ask(runtime, person, "dark cello")
    await restrict(runtime, people[1], reason="Checking my data.", client=CLIENT, language="en")
    assert "cello" not in await _words(runtime)


async def test_old_prompts_and_derived_requests_are_left_out(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    people = await _people(runtime, 3)
    for person in people:
        await _ask(runtime, person, "ancient harp")
    clock.advance(PANEL_DAYS * 86400 + 1)
    for person in people:
        # A variation repeats its source's prompt; it is no new request.
        await _ask(runtime, person, "ancient harp", source_track_id="t" * 32, seed=2)
    assert await _words(runtime) == {}


@pytest.fixture
async def operator(runtime: LocalRuntime) -> dict[str, str]:
    who = await member(runtime, "operator@example.com")
    await (
        runtime.db.prepare("UPDATE accounts SET is_admin = 1 WHERE id = ?")
        .bind(who.account_id)
        .run()
    )
    return who.headers


async def test_the_operators_page_shows_the_panel_without_objecting_accounts_words(
    client: httpx.AsyncClient, runtime: LocalRuntime, operator: dict[str, str]
) -> None:
    people = await _people(runtime, 3)
    for person in people:
        await _ask(runtime, person, "glitchy marimba")
    page = (await client.get("/admin/analytics", headers=operator)).text
    panel = page.split('id="prompt-words"')[1]
    assert re.search(r"<td>marimba</td><td>3</td><td>3</td>", panel)
    await set_objections(runtime, people[2], PROMPT_USE, client=CLIENT, language="en")
    page = (await client.get("/admin/analytics", headers=operator)).text
    assert "marimba" not in page
    assert "No word is used by enough accounts yet." in page
