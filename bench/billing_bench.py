"""Billing: D1 round trips and Stripe calls for starting a checkout and for each webhook.

    python bench/billing_bench.py

Runs the Stripe sandbox, subscribes an account to Creator and buys a credit pack through
`start_checkout` and the sandbox's hosted page, then applies every event the sandbox recorded
through `handle_webhook`, counting D1 calls (statements and batches: one round trip each on
Cloudflare) and the time each takes on the local runtime.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from bench.counting import CountingDatabase  # noqa: E402

from beatbun.billing.checkout import start_checkout  # noqa: E402
from beatbun.billing.webhooks import handle_webhook  # noqa: E402
from beatbun.generation.queue import UserQueue  # noqa: E402
from beatbun.settings import Settings  # noqa: E402
from beatbun_local.migrations import apply_migrations  # noqa: E402
from beatbun_local.runtime import LocalRuntime  # noqa: E402
from tests.factories import create_verified_account  # noqa: E402
from tests.stripe_sandbox.server import API_KEY, WEBHOOK_SECRET, RunningSandbox  # noqa: E402

CARD = {"cardNumber": "4242424242424242", "cardExpiry": "12/34", "cardCvc": "123"}


async def bench(folder: Path, sandbox: RunningSandbox) -> None:
    settings = Settings(
        environment="test",
        stripe_secret_key=API_KEY,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_api_base=sandbox.url,
    )
    runtime = LocalRuntime.open(folder / "state", settings=settings, user_queue=UserQueue)
    await apply_migrations(runtime.db, PROJECT_ROOT / "d1" / "migrations")
    account = await create_verified_account(runtime)
    counting = CountingDatabase(runtime.db)
    runtime.db = counting  # type: ignore[assignment]
    checkouts = []
    async with httpx.AsyncClient() as browser:
        for item in ("creator", "pack_small", "pack_medium"):
            counting.calls = 0
            started = time.perf_counter()
            redirect = await start_checkout(runtime, account=account, item=item, language="en")
            checkouts.append((item, counting.calls, time.perf_counter() - started))
            await browser.post(redirect.url, data=CARD)
        listed = await browser.get(
            f"{sandbox.url}/v1/events",
            params={"limit": 100},
            headers={"Authorization": f"Bearer {API_KEY}"},
        )
    by_type: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for event in reversed(listed.json()["data"]):
        payload = json.dumps(event).encode()
        at = int(time.time())
        digest = hmac.new(WEBHOOK_SECRET.encode(), f"{at}.".encode() + payload, hashlib.sha256)
        counting.calls = 0
        started = time.perf_counter()
        await handle_webhook(runtime, payload=payload, signature=f"t={at},v1={digest.hexdigest()}")
        by_type[event["type"]].append((counting.calls, time.perf_counter() - started))
    runtime.db = counting.inner
    runtime.close()
    print("Starting a checkout (D1 round trips, wall time with the sandbox on loopback):")
    for item, calls, seconds in checkouts:
        print(f"  {item:<12} {calls} D1 round trips, {seconds * 1000:6.1f} ms")
    print("Handling one webhook (D1 round trips; events we do not act on make none):")
    for kind, runs in sorted(by_type.items()):
        calls = sorted({c for c, _ in runs})
        median = statistics.median(s for _, s in runs) * 1000
        print(f"  {kind:<42} {'/'.join(map(str, calls)):>5} D1, {median:6.1f} ms")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        sandbox = RunningSandbox(None, Path(folder) / "stripe.log")
        sandbox.start()
        try:
            asyncio.run(bench(Path(folder), sandbox))
        finally:
            sandbox.stop()


if __name__ == "__main__":
    main()
