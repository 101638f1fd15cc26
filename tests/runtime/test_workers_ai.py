"""Workers AI reading prompts: the `AI` binding's adapter and `generation.understanding`.

The binding fake answers as Workers AI's JSON mode is documented to; the reading falls back
to the composer's rules (the request unchanged) for every failure the documentation names.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from js_bindings import FakeAiBinding, FakeEnv

from beatbun.errors import RuntimeFailure
from beatbun.generation import catalogue, understanding
from beatbun.generation.models import GenerationRequest
from beatbun.runtime.base import Runtime, TextModel
from beatbun.runtime.cloudflare import WorkersAI, runtime_from_env
from tests.fakes import FakeTextModel

READING = {
    "genre": "bossa",
    "mood": "chill",
    "bpm": 128,
    "key": "D",
    "mode": "minor",
    "instruments": ["nylon_guitar"],
}


BINDINGS = {"DB": object(), "AUDIO": object(), "USER_QUEUE": object()}


def runtime_with(model: TextModel | None, **env_vars: str) -> Runtime:
    """The Worker's runtime, built from a fake `env`, with `model` as its text model."""
    return dataclasses.replace(runtime_from_env(FakeEnv(**BINDINGS, **env_vars)), text_model=model)


async def test_the_adapter_sends_plain_json_and_returns_the_answer() -> None:
    binding = FakeAiBinding(READING)
    answer = await WorkersAI(binding).run("@cf/model", understanding.model_inputs("bossa"))
    assert answer["response"] == READING
    model, inputs = binding.calls[0]
    assert model == "@cf/model"
    assert inputs["response_format"]["type"] == "json_schema"
    # The schema's enums are lists: a tuple would be refused by the SDK at any depth.
    assert inputs["response_format"]["json_schema"]["properties"]["genre"]["enum"][:2] == [
        *list(catalogue.GENRES)[:2]
    ]


async def test_the_adapter_reports_a_model_failure_as_ours() -> None:
    binding = FakeAiBinding(error="AiError: 5021: JSON Mode couldn't be met")
    with pytest.raises(RuntimeFailure) as caught:
        await WorkersAI(binding).run("@cf/model", understanding.model_inputs("x"))
    assert caught.value.code == "text_model_error"
    assert "JSON Mode couldn't be met" in caught.value.message


async def test_the_adapter_refuses_an_answer_that_is_not_an_object() -> None:
    with pytest.raises(RuntimeFailure):
        await WorkersAI(FakeAiBinding("plain text")).run("@cf/model", {"messages": []})


def test_the_runtime_has_a_text_model_only_where_the_binding_is() -> None:
    assert runtime_from_env(FakeEnv(**BINDINGS)).text_model is None
    bound = runtime_from_env(FakeEnv(**BINDINGS, AI=FakeAiBinding(READING)))
    assert isinstance(bound.text_model, WorkersAI)


async def test_a_reading_fills_only_what_the_person_left_empty() -> None:
    model = WorkersAI(FakeAiBinding(READING))
    request = GenerationRequest.parse({"prompt": "musique pour un bar de plage", "bpm": 124})
    understood = await understanding.understand(runtime_with(model), request)
    assert understood.genres == ["bossa"]
    assert understood.mood == "chill"
    assert understood.bpm == 124  # the person's own tempo wins
    assert (understood.key, understood.mode) == ("D", "minor")
    assert understood.instruments == ["nylon guitar"]
    # Still a valid request, as the API would have accepted it.
    assert GenerationRequest.parse(understood.model_dump(exclude_none=True)) == understood


async def test_the_model_is_asked_with_the_configured_name_and_the_prompt() -> None:
    model = FakeTextModel(READING)
    runtime = runtime_with(model, PROMPT_MODEL="@cf/test/reader")
    await understanding.read_prompt(runtime, "ruhiges Klavier, 70 bpm")
    name, inputs = model.calls[0]
    assert name == "@cf/test/reader"
    assert inputs["messages"][1] == {"role": "user", "content": "ruhiges Klavier, 70 bpm"}


async def test_an_answer_as_json_text_is_read_too() -> None:
    model = FakeTextModel('{"genre": "piano", "mood": null, "bpm": 70, "key": null, '
                          '"mode": null, "instruments": ["piano"]}')  # fmt: skip
    reading = await understanding.read_prompt(runtime_with(model), "ruhiges Klavier")
    assert reading is not None
    assert (reading.genre, reading.bpm, reading.instruments) == ("piano", 70, ["piano"])


@pytest.mark.parametrize(
    "answer",
    [
        {**READING, "genre": "polka"},  # not a genre we make
        {**READING, "bpm": 900},  # outside the tempo range
        {**READING, "key": "H"},  # not a tonic spelling we accept
        {**READING, "instruments": ["theremin"]},
        "not json at all",
        None,
    ],
)
async def test_an_unusable_answer_leaves_the_request_to_the_rules(answer: object) -> None:
    request = GenerationRequest.parse({"prompt": "polka at a wedding"})
    understood = await understanding.understand(runtime_with(FakeTextModel(answer)), request)
    assert understood is request


async def test_a_failed_or_slow_model_leaves_the_request_to_the_rules(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    request = GenerationRequest.parse({"prompt": "sad piano ballad about rain"})
    failing = FakeTextModel(error="AiError: 5021: JSON Mode couldn't be met")
    assert await understanding.understand(runtime_with(failing), request) is request
    monkeypatch.setattr(understanding, "TIMEOUT_SECONDS", 0.05)
    slow = FakeTextModel(READING, delay=5.0)
    started = asyncio.get_running_loop().time()
    assert await understanding.understand(runtime_with(slow), request) is request
    assert asyncio.get_running_loop().time() - started < 1.0


async def test_without_a_model_nothing_is_asked() -> None:
    request = GenerationRequest.parse({"prompt": "lullaby"})
    assert await understanding.understand(runtime_with(None), request) is request
