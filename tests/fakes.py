"""Stand-ins for what cannot exist in a test: a clock that moves only when told, and Workers AI."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from beatbun.errors import RuntimeFailure


class ManualClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds


class FakeTextModel:
    """Workers AI's `env.AI.run(model, inputs)` for JSON mode, as its documentation shows it
    (developers.cloudflare.com/workers-ai/features/json-mode): `inputs` holds `messages` and
    `response_format: {"type": "json_schema", "json_schema": {...}}`, the answer is
    `{"response": <object>}`; a model that cannot meet the schema fails with
    "JSON Mode couldn't be met". `answer` is what the model replies to every prompt; `error`
    makes every call fail with that message; `delay` holds each answer back that many seconds.
    """

    def __init__(
        self, answer: object = None, *, error: str | None = None, delay: float = 0.0
    ) -> None:
        self.answer = answer
        self.error = error
        self.delay = delay
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def run(self, model: str, inputs: Mapping[str, Any]) -> Mapping[str, Any]:
        # The binding takes plain JSON values only (the SDK refuses tuples and bytearrays).
        sent = json.loads(json.dumps(inputs))
        assert sent == inputs, "inputs must be plain JSON values"
        roles = [message["role"] for message in sent["messages"]]
        assert roles == ["system", "user"], roles
        assert sent["response_format"]["type"] == "json_schema"
        assert sent["response_format"]["json_schema"]["type"] == "object"
        self.calls.append((model, sent))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.error is not None:
            raise RuntimeFailure(f"Workers AI failed: {self.error}", code="text_model_error")
        return {"response": self.answer}
