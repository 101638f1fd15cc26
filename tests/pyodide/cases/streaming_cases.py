"""src/entry.py's `Default`: `fetch` hands the audio route's R2 body to the Worker's Response
through runtime/streams.py and the SDK's ASGI bridge, never read by Python; `scheduled`."""

from __future__ import annotations

import tracemalloc
from typing import Any

import conformance_js
from runner import case
from support import SCHEDULED_RUNS, load_entry, unique, wrapped_env
from workers import python_from_rpc

from beatbun.runtime.cloudflare import R2BlobStore

BIG = 50 * 1024 * 1024


async def _fetch(path: str, headers: dict[str, str] | None = None) -> Any:
    entry = load_entry()
    worker = entry.Default(conformance_js.executionContext(), conformance_js.env)
    request = python_from_rpc(
        conformance_js.newRequest(f"https://beatbun.test{path}", list((headers or {}).items()))
    )
    response = await worker.fetch(request)
    # workerd takes a workers.Response or a raw JS Response from fetch.
    answer = await conformance_js.drain(getattr(response, "js_object", response))
    await conformance_js.settle()
    return answer.to_py()


@case
async def ranged_audio_leaves_as_the_r2_stream() -> None:
    key = unique("audio/track-")
    data = bytes(range(256)) * 16
    await R2BlobStore(wrapped_env().AUDIO).put(key, data)
    answer = await _fetch(f"/audio/{key}", {"range": "bytes=256-511"})
    assert answer["status"] == 206 and answer["size"] == 256, answer
    assert answer["headers"]["content-range"] == f"bytes 256-511/{len(data)}", answer
    whole = await _fetch(f"/audio/{key}")
    assert (whole["status"], whole["size"]) == (200, len(data)), whole


@case
async def other_responses_pass_through_the_bridge() -> None:
    answer = await _fetch("/audio/plain")
    assert (answer["status"], answer["size"]) == (200, 5), answer


@case
async def fifty_mb_never_enter_python() -> dict[str, Any]:
    key = unique("audio/big-")
    await conformance_js.putFilled(key, BIG)
    before = conformance_js.wasmBytes()
    tracemalloc.start()
    try:
        answer = await _fetch(f"/audio/{key}")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    growth = conformance_js.wasmBytes() - before
    assert (answer["status"], answer["size"]) == (200, BIG), answer
    # Had the body crossed, Python would have held 50 MiB and Wasm memory would have grown by it.
    assert peak < 1024 * 1024, peak
    assert growth < 8 * 1024 * 1024, growth
    return {"python_peak_bytes": peak, "wasm_growth_bytes": growth, "body_bytes": BIG}


@case
async def cron_reads_the_controller() -> None:
    entry = load_entry()
    worker = entry.Default(conformance_js.executionContext(), conformance_js.env)
    controller = conformance_js.cronController("0 * * * *", 1_900_000_000_250)
    # workerd passes the raw JS env and ctx as arguments; the handler must use self.env.
    await worker.scheduled(controller, conformance_js.env, conformance_js.executionContext())
    run = SCHEDULED_RUNS.pop()
    assert (run["cron"], run["scheduled_time"]) == ("0 * * * *", 1_900_000_000.25), run
    assert run["runtime"].settings.environment == "test"
