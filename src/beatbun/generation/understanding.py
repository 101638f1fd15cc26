"""Reading a free-text prompt with a hosted text model, where the operator bound one.

With an `AI` binding (Workers AI), `understand` asks the model (`Settings.prompt_model`) to
turn the prompt into the request's own structured fields: genre, mood, tempo, key, mode and
instruments, in the catalogue's vocabulary. The answer is JSON in Workers AI's JSON mode
(developers.cloudflare.com/workers-ai/features/json-mode), checked by `PromptReading`; it fills
only the fields the person left empty, so what they chose always wins. Anything else (no
binding, a model error, "JSON Mode couldn't be met", an answer outside the catalogue, no answer
within `TIMEOUT_SECONDS`) leaves the request as it was, and the composer's rules read the
prompt as they do everywhere else. Nothing here is charged: the price depends only on length
and lyrics, and the reading runs before the charge.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from beatbun.errors import RuntimeFailure
from beatbun.generation import catalogue
from beatbun.generation.models import MAX_INSTRUMENTS, GenerationRequest
from beatbun.generation.provider import MAX_BPM, MIN_BPM, TONICS
from beatbun.runtime.base import Runtime

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 3.0
MAX_TOKENS = 200

SYSTEM_PROMPT = (
    "You read prompts for a music generator. The prompt may be in English, German or French. "
    "Answer with the JSON object the schema describes: the genre, mood, tempo in BPM, key "
    "tonic, mode and instruments the prompt asks for, each from the schema's lists. Use null "
    "(or an empty list) for anything the prompt does not say; never guess a tempo or a key."
)


class PromptReading(BaseModel):
    """What the model says a prompt asks for; every value is one the catalogue knows."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    genre: str | None = None
    mood: str | None = None
    bpm: float | None = Field(default=None, ge=MIN_BPM, le=MAX_BPM)
    key: str | None = None
    mode: Literal["major", "minor"] | None = None
    instruments: list[str] = Field(default_factory=list, max_length=MAX_INSTRUMENTS)

    @field_validator("genre")
    @classmethod
    def _known_genre(cls, value: str | None) -> str | None:
        return _known(value, catalogue.GENRES)

    @field_validator("mood")
    @classmethod
    def _known_mood(cls, value: str | None) -> str | None:
        return _known(value, catalogue.MOODS)

    @field_validator("key")
    @classmethod
    def _known_key(cls, value: str | None) -> str | None:
        return _known(value, TONICS)

    @field_validator("instruments")
    @classmethod
    def _known_instruments(cls, value: list[str]) -> list[str]:
        for item in value:
            _known(item, catalogue.INSTRUMENTS)
        return list(dict.fromkeys(value))


def _known(value: str | None, known: Mapping[str, object] | tuple[str, ...]) -> str | None:
    if value is not None and value not in known:
        raise ValueError(f"{value!r} is not one of the catalogue's values")
    return value


def reading_schema() -> dict[str, Any]:
    """The JSON schema sent as `response_format.json_schema`, with the catalogue's values."""

    def one_of(values: list[str]) -> dict[str, Any]:
        return {"type": ["string", "null"], "enum": [*values, None]}

    return {
        "type": "object",
        "properties": {
            "genre": one_of(list(catalogue.GENRES)),
            "mood": one_of(list(catalogue.MOODS)),
            "bpm": {"type": ["number", "null"], "minimum": MIN_BPM, "maximum": MAX_BPM},
            "key": one_of(list(TONICS)),
            "mode": one_of(["major", "minor"]),
            "instruments": {
                "type": "array",
                "items": {"type": "string", "enum": list(catalogue.INSTRUMENTS)},
                "maxItems": MAX_INSTRUMENTS,
            },
        },
        "required": ["genre", "mood", "bpm", "key", "mode", "instruments"],
    }


def model_inputs(prompt: str) -> dict[str, Any]:
    """The `inputs` of `env.AI.run(model, inputs)` for one prompt."""
    return {
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": prompt},
        ],
        "response_format": {"type": "json_schema", "json_schema": reading_schema()},
        "max_tokens": MAX_TOKENS,
        "temperature": 0,
    }


async def read_prompt(runtime: Runtime, prompt: str) -> PromptReading | None:
    """The model's reading of `prompt`, or None where there is no model or no usable answer."""
    model = runtime.text_model
    if model is None or not prompt.strip():
        return None
    try:
        answer = await asyncio.wait_for(
            model.run(runtime.settings.prompt_model, model_inputs(prompt)),
            timeout=TIMEOUT_SECONDS,
        )
        response = answer.get("response")
        # JSON mode answers an object; a model outside it answers the JSON as text.
        data = json.loads(response) if isinstance(response, str) else response
        return PromptReading.model_validate(data)
    except TimeoutError:
        log.warning(
            "The prompt model gave no answer within %s s; the rules read it.", TIMEOUT_SECONDS
        )
    except RuntimeFailure as exc:
        log.warning("The prompt model failed (%s); the rules read the prompt.", exc.message)
    except (ValueError, ValidationError) as exc:
        log.warning("The prompt model's answer was not a reading (%s); the rules read it.", exc)
    return None


async def understand(runtime: Runtime, request: GenerationRequest) -> GenerationRequest:
    """`request` with the fields its person left empty filled from the model's reading."""
    reading = await read_prompt(runtime, request.prompt)
    if reading is None:
        return request
    update: dict[str, Any] = {}
    if not request.genres and reading.genre:
        update["genres"] = [reading.genre]
    if request.mood is None and reading.mood:
        update["mood"] = reading.mood
    if request.bpm is None and reading.bpm is not None:
        update["bpm"] = reading.bpm
    if request.key is None and request.mode is None:
        update |= {
            name: value
            for name, value in (("key", reading.key), ("mode", reading.mode))
            if value is not None
        }
    if not request.instruments and reading.instruments:
        update["instruments"] = [catalogue.phrase_of(item) for item in reading.instruments]
    return request.model_copy(update=update) if update else request
