"""The generation pipeline: latency on the real local server, and D1 round trips per request.

    python bench/pipeline_bench.py [--runs 5] [--seconds 30]

Prints, for a composer track of the given length: the time from submit to the first live event
and to a playable track (median and worst of the runs), then how many D1 calls (statements and
batches, each one round trip on Cloudflare) a submission and a status read make.

The events arrive over the studio's live WebSocket, opened (and resumed) before each submit as
the page opens it; the clock starts when the form is posted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import queue
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from bench.counting import CountingDatabase  # noqa: E402

from beatbun.generation.models import GenerationRequest  # noqa: E402
from beatbun.generation.queue import UserQueue  # noqa: E402
from beatbun.generation.service import get_generation, submit_generation  # noqa: E402
from beatbun.runtime.pushrules import PROGRESS_PATH, encode_resume  # noqa: E402
from beatbun.settings import Settings  # noqa: E402
from beatbun_local.migrations import apply_migrations  # noqa: E402
from beatbun_local.runtime import LocalRuntime  # noqa: E402
from tests.conftest import LiveServer  # noqa: E402
from tests.factories import create_verified_account  # noqa: E402
from tests.visitors import signed_in  # noqa: E402


def latency(runs: int, seconds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        server = LiveServer(Path(folder) / "state", Path(folder) / "server.log")
        server.start()
        try:
            visitor = signed_in(server.url, server.state_dir, "bench@example.com")
            cookie = "; ".join(f"{k}={v}" for k, v in visitor.cookies.items())
            first_event: list[float] = []
            playable: list[float] = []
            # One connection kept open, as a browser's: a new client per request would time
            # its own set-up (TLS context, TCP connection) rather than the server.
            browser = httpx.Client(
                base_url=server.url, headers={"Cookie": cookie, "Origin": server.url}
            )
            for run in range(runs):
                token_page = browser.get("/studio").text
                token = token_page.split('name="request_token" value="', 1)[1].split('"', 1)[0]
                after = int(token_page.split('data-last-seq="', 1)[1].split('"', 1)[0])
                csrf = token_page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
                with connect(
                    server.url.replace("http://", "ws://") + PROGRESS_PATH,
                    origin=Origin(server.url),
                    additional_headers={"Cookie": cookie},
                ) as socket:
                    socket.send(encode_resume(after))
                    arrivals: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
                    # Events are timed as they arrive, not when the post has returned.
                    listener = threading.Thread(target=_listen, args=(socket, arrivals))
                    listener.start()
                    started = time.perf_counter()
                    response = browser.post(
                        "/studio",
                        data={
                            "prompt": "bench pop",
                            "duration_seconds": str(seconds),
                            "seed": str(run),
                            "request_token": token,
                            "csrf_token": csrf,
                        },
                    )
                    assert response.status_code == 303, response.text
                    job_id = response.headers["location"].split("=", 1)[1]
                    got_first = None
                    while True:
                        arrived, event = arrivals.get(timeout=120)
                        got_first = got_first or arrived - started
                        if event["type"] == "succeeded" and event["job_id"] == job_id:
                            playable.append(arrived - started)
                            break
                listener.join()
                first_event.append(got_first)
            browser.close()
        finally:
            server.stop()
    print(f"{seconds} s composer track, {runs} runs, real local server, live WebSocket:")
    print(
        f"  submit -> first event:    median {statistics.median(first_event) * 1000:7.1f} ms, worst {max(first_event) * 1000:7.1f} ms"
    )
    print(
        f"  submit -> playable track: median {statistics.median(playable) * 1000:7.1f} ms, worst {max(playable) * 1000:7.1f} ms"
    )


def _listen(socket: ClientConnection, arrivals: queue.Queue[tuple[float, dict[str, Any]]]) -> None:
    with contextlib.suppress(ConnectionClosed):
        for message in socket:
            arrivals.put((time.perf_counter(), json.loads(message)))


async def round_trips() -> None:
    with tempfile.TemporaryDirectory() as folder:
        runtime = LocalRuntime.open(
            Path(folder), settings=Settings(environment="test"), user_queue=UserQueue
        )
        await apply_migrations(runtime.db, PROJECT_ROOT / "d1" / "migrations")
        account = await create_verified_account(runtime)
        counting = CountingDatabase(runtime.db)
        runtime.db = counting  # type: ignore[assignment]
        request = GenerationRequest.parse({"prompt": "bench", "duration_seconds": 5})
        counts = []
        for key in ("first", "second"):
            counting.calls = 0
            submission = await submit_generation(
                runtime, account_id=account.id, request=request, idempotency_key=key
            )
            counts.append(counting.calls)
        counting.calls = 0
        await submit_generation(
            runtime, account_id=account.id, request=request, idempotency_key="second"
        )
        replay = counting.calls
        counting.calls = 0
        await get_generation(runtime, account_id=account.id, job_id=submission.job.id)
        status = counting.calls
        runtime.db = counting.inner
        runtime.close()
    print("D1 round trips per request (the queue's own storage is not D1):")
    print(f"  submit (first of the month / after): {counts[0]} / {counts[1]}")
    print(f"  submit replayed with the same Idempotency-Key: {replay}")
    print(f"  status (GET /api/v1/generations/{{id}}): {status}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(round_trips())
    latency(args.runs, args.seconds)


if __name__ == "__main__":
    main()
