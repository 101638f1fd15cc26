"""`python -m beatbun_local.stripe_sandbox --port 12111 --webhook-url URL ...`"""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_PORT = 12111


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    from beatbun_local.stripe_sandbox.app import create_sandbox_app

    parser = argparse.ArgumentParser(
        prog="python -m beatbun_local.stripe_sandbox",
        description="A local Stripe for development and tests: point the SDK's api_base at it.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument(
        "--public-url", help="where browsers reach the sandbox (default http://HOST:PORT)"
    )
    parser.add_argument("--webhook-url", default="", help="where to POST events (none if empty)")
    parser.add_argument("--webhook-secret", default="whsec_sandbox", help="signs the webhooks")
    parser.add_argument("--state", type=Path, help="JSON file that keeps state across restarts")
    parser.add_argument("--async-settle-seconds", type=float, default=3.0)
    parser.add_argument("--retry-base-seconds", type=float, default=0.5)
    parser.add_argument("--max-delivery-attempts", type=int, default=8)
    parser.add_argument(
        "--no-legacy-fields",
        action="store_true",
        help="drop the fields API version 2025-03-31.basil removed (invoice.subscription, ...)",
    )
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    app = create_sandbox_app(
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        public_url=args.public_url or f"http://{args.host}:{args.port}",
        state_path=args.state,
        async_settle_seconds=args.async_settle_seconds,
        legacy_fields=not args.no_legacy_fields,
        max_delivery_attempts=args.max_delivery_attempts,
        retry_base_seconds=args.retry_base_seconds,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, server_header=False)


if __name__ == "__main__":
    main()
