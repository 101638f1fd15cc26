"""The local server: the same ASGI app under uvicorn, with the local runtime, alarms and cron.

`uvicorn --factory beatbun_local.server:create_local_app`, or
`python -m beatbun_local.server --port 8787`; `make dev` adds `--reload --stripe-sandbox`,
which also starts the local Stripe sandbox where `STRIPE_API_BASE` points, delivering its
webhooks to this server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tomllib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from cronsim import CronSim
from dotenv import dotenv_values
from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from beatbun.errors import AppError
from beatbun.generation.queue import UserQueue
from beatbun.main import create_app
from beatbun.runtime.pushrules import PROGRESS_PATH
from beatbun.scheduled import run_scheduled
from beatbun.settings import Settings
from beatbun.web.progress import refusal_body, socket_account_id
from beatbun_local.headers_file import HEADERS_FILE, headers_for, read_headers_file
from beatbun_local.migrations import apply_migrations
from beatbun_local.runtime import LocalRuntime

PROJECT_ROOT = Path(os.environ.get("BEATBUN_PROJECT_ROOT", Path.cwd()))
# Files in public/ that configure Workers static assets and are never served as assets.
CONFIG_FILES = frozenset({HEADERS_FILE, "_redirects", ".assetsignore"})


def create_local_app() -> ASGIApp:
    """Build the app from the environment: `BEATBUN_STATE_DIR` (default `.state`) and `.dev.vars`."""
    settings = local_settings()
    runtime = LocalRuntime.open(state_dir(), settings=settings, user_queue=UserQueue)
    app = create_app(runtime=runtime)
    app.router.lifespan_context = _lifespan(
        runtime, crons=read_crons(PROJECT_ROOT / "wrangler.toml")
    )
    return ProgressSockets(AssetsFirst(app, PROJECT_ROOT / "public"), runtime)


def state_dir() -> Path:
    """`BEATBUN_STATE_DIR`, or `.state` in the project."""
    return Path(os.environ.get("BEATBUN_STATE_DIR", PROJECT_ROOT / ".state"))


def local_settings() -> Settings:
    """The settings of `BEATBUN_DEV_VARS`, or the project's `.dev.vars`."""
    dev_vars = Path(os.environ.get("BEATBUN_DEV_VARS", PROJECT_ROOT / ".dev.vars"))
    return Settings.from_env(load_dev_vars(dev_vars))


def start_stripe_sandbox(settings: Settings, *, app_port: int) -> subprocess.Popen[bytes]:
    """Run the Stripe sandbox at `STRIPE_API_BASE` (a loopback address), posting to this server.

    Raises ValueError when `STRIPE_API_BASE` is not a local address: real Stripe needs no sandbox.
    """
    address = urlsplit(settings.stripe_api_base)
    if address.hostname not in ("127.0.0.1", "localhost") or address.port is None:
        raise ValueError(
            f"Config 'STRIPE_API_BASE' has value {settings.stripe_api_base!r}. "
            "--stripe-sandbox needs a loopback address with a port, e.g. http://127.0.0.1:12111."
        )
    state = state_dir() / "stripe"
    state.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(  # noqa: S603 (our own module, with arguments we build)
        [
            sys.executable,
            "-m",
            "beatbun_local.stripe_sandbox",
            "--port",
            str(address.port),
            "--webhook-url",
            f"http://127.0.0.1:{app_port}/api/webhooks/stripe",
            "--webhook-secret",
            settings.stripe_webhook_secret,
            "--state",
            str(state / "sandbox.json"),
            # Objects as the API version the SDK pins shapes them, as real Stripe sends them.
            "--no-legacy-fields",
        ]
    )


def load_dev_vars(path: Path) -> dict[str, str]:
    """Read `.dev.vars` (dotenv syntax, as wrangler reads it); a missing file means defaults."""
    if not path.exists():
        return {}
    return {name: value or "" for name, value in dotenv_values(path).items()}


def read_crons(wrangler_toml: Path) -> list[str]:
    config = tomllib.loads(wrangler_toml.read_text())
    crons: list[str] = config.get("triggers", {}).get("crons", [])
    return crons


async def run_cron_loop(runtime: LocalRuntime, crons: list[str], stop: asyncio.Event) -> None:
    """Call the scheduled handler at each cron's next time, as Cloudflare's triggers do."""
    if not crons:
        return
    while not stop.is_set():
        now = runtime.clock.now()
        when, _ = next_cron_run(crons, now)
        try:
            await asyncio.wait_for(stop.wait(), timeout=max(when.timestamp() - now, 0))
        except TimeoutError:
            # Every trigger due then runs, as Cloudflare starts each of them.
            for cron in due_crons(crons, now, when):
                await run_scheduled(runtime, cron=cron, scheduled_time=when.timestamp())


def next_cron_run(crons: list[str], now: float) -> tuple[datetime, str]:
    """The earliest upcoming (time, cron expression) strictly after `now`, in UTC."""
    moment = datetime.fromtimestamp(now, tz=UTC)
    return min((next(CronSim(cron, moment)), cron) for cron in crons)


def due_crons(crons: list[str], now: float, when: datetime) -> list[str]:
    """The crons whose next run after `now` is `when` (an hourly and a five-minute one at :00)."""
    moment = datetime.fromtimestamp(now, tz=UTC)
    return [cron for cron in crons if next(CronSim(cron, moment)) == when]


class AssetsFirst:
    """Serve a file from `public/` when one matches the path, else the app: Workers' default.

    Asset responses get the headers `public/_headers` gives them, as on Workers; the file
    itself, like Workers' other configuration files, is never served.
    """

    def __init__(self, app: FastAPI, public_dir: Path) -> None:
        self.app = app
        self._public_dir = public_dir.resolve()
        self._files = StaticFiles(directory=public_dir)
        self._rules = read_headers_file(self._public_dir)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._is_asset(scope["path"]):
            await self.app(scope, receive, send)
            return
        extra, removed = headers_for(self._rules, scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name in removed:
                    del headers[name]
                headers.update(extra)
            await send(message)

        await self._files(scope, receive, send_with_headers)

    def _is_asset(self, path: str) -> bool:
        candidate = (self._public_dir / path.lstrip("/")).resolve()
        return (
            candidate.is_relative_to(self._public_dir)
            and candidate.is_file()
            and candidate.relative_to(self._public_dir).as_posix() not in CONFIG_FILES
        )


class ProgressSockets:
    """The live progress WebSocket, taken before the app as the Worker's `Default.fetch` does.

    The handshake is refused (with the app's JSON error) unless it comes from this site with a
    logged-in session; then the user's queue object holds the socket and pushes to it.
    """

    def __init__(self, app: ASGIApp, runtime: LocalRuntime) -> None:
        self.app = app
        self._runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket" or scope["path"] != PROGRESS_PATH:
            await self.app(scope, receive, send)
            return
        websocket = WebSocket(scope, receive, send)
        try:
            account_id = await socket_account_id(
                self._runtime,
                cookie_header=websocket.headers.get("cookie"),
                origin=websocket.headers.get("origin"),
                url=str(websocket.url),
            )
        except AppError as exc:
            refusal = JSONResponse(
                refusal_body(exc), status_code=exc.status, headers={"cache-control": "no-store"}
            )
            await websocket.send_denial_response(refusal)
            return
        queues = self._runtime.user_queues
        await queues.serve_socket(queues.id_from_name(account_id), websocket)


def _lifespan(runtime: LocalRuntime, *, crons: list[str]):  # type: ignore[no-untyped-def]
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await apply_migrations(runtime.db, PROJECT_ROOT / "d1" / "migrations")
        stop = asyncio.Event()
        background = [
            asyncio.create_task(runtime.user_queues.run_alarm_loop(stop)),
            asyncio.create_task(run_cron_loop(runtime, crons, stop)),
        ]
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(*background)
            runtime.close()

    return lifespan


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the product locally.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--reload", action="store_true")
    parser.add_argument(
        "--stripe-sandbox",
        action="store_true",
        help="also run the local Stripe sandbox at STRIPE_API_BASE",
    )
    args = parser.parse_args(argv)
    sandbox = (
        start_stripe_sandbox(local_settings(), app_port=args.port) if args.stripe_sandbox else None
    )
    # uvicorn hands SIGTERM back once it has shut down; end through `finally`, not at once.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        _serve(args)
    finally:
        if sandbox is not None:
            sandbox.terminate()
            sandbox.wait(timeout=15)


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    uvicorn.run(
        "beatbun_local.server:create_local_app",
        factory=True,
        host=args.host,
        port=args.port,
        reload=args.reload,
        reload_dirs=[str(PROJECT_ROOT / "src")] if args.reload else None,
        server_header=False,
        log_level="info",
    )


if __name__ == "__main__":
    main()
