from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, sync_playwright

from beatbun.generation.queue import UserQueue
from beatbun.main import create_app
from beatbun.settings import Settings
from beatbun_local.migrations import apply_migrations
from beatbun_local.runtime import LocalRuntime
from tests.fakes import ManualClock
from tests.processes import PROJECT_ROOT, ServerProcess
from tests.stripe_sandbox.server import API_KEY, WEBHOOK_SECRET, RunningSandbox

MIGRATIONS = PROJECT_ROOT / "d1" / "migrations"


@pytest.fixture
def settings() -> Settings:
    # The manual clock never moves by itself, so the provider's rate (a few sends a second)
    # would hold every test to that many emails, and the sign-up throttle to that many
    # accounts; tests of the rate and of the throttle set their own.
    return Settings(environment="test", mail_rate_per_second=10_000.0, sign_ups_per_address=100_000)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def runtime(
    tmp_path: Path, settings: Settings, clock: ManualClock
) -> AsyncIterator[LocalRuntime]:
    local = LocalRuntime.open(
        tmp_path / "state", settings=settings, user_queue=UserQueue, clock=clock
    )
    await apply_migrations(local.db, MIGRATIONS)
    yield local
    local.close()


@pytest.fixture
def app(runtime: LocalRuntime) -> FastAPI:
    return create_app(runtime=runtime)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as test_client:
        yield test_client


class LiveServer(ServerProcess):
    """The real local server (uvicorn in its own process) on a free loopback port."""

    name = "Server"
    health_path = "/healthz"

    def __init__(
        self, state_dir: Path, log_path: Path, *, env: dict[str, str] | None = None
    ) -> None:
        super().__init__(log_path)
        self.state_dir = state_dir
        self.extra_env = env or {}

    def command(self) -> list[str]:
        return [sys.executable, "-m", "beatbun_local.server", "--port", str(self.port)]

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "BEATBUN_PROJECT_ROOT": str(PROJECT_ROOT),
            "BEATBUN_STATE_DIR": str(self.state_dir),
            "BEATBUN_DEV_VARS": str(self._dev_vars()),
        }

    def run_mail_cron(self) -> None:
        """Send the bulk mail queued so far, as the five-minute cron would, and wait for it."""
        completed = subprocess.run(
            [sys.executable, "-m", "beatbun_local.drain", "--state-dir", str(self.state_dir)],
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr

    def _dev_vars(self) -> Path:
        """The server reads its configuration from a .dev.vars file, as `make dev` does."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        path = self.state_dir / "test.dev.vars"
        # Flows send mail and sign up in bursts no person makes; the provider's rate and the
        # sign-up throttle have tests of their own.
        env = {"MAIL_RATE_PER_SECOND": "1000", "SIGN_UPS_PER_ADDRESS": "100000", **self.extra_env}
        path.write_text("".join(f'{name}="{value}"\n' for name, value in env.items()))
        return path


def running_live_server(tmp_path: Path, env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    """A live server with its state under `tmp_path`, for fixtures to `yield from`."""
    server = LiveServer(tmp_path / "state", tmp_path / "server.log", env=env)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    yield from running_live_server(tmp_path)


def running_with_stripe(tmp_path: Path) -> Iterator[tuple[LiveServer, RunningSandbox]]:
    """The live server and a Stripe sandbox that delivers its webhooks to it, as `make dev` runs."""
    server = LiveServer(tmp_path / "state", tmp_path / "server.log")
    sandbox = RunningSandbox(
        tmp_path / "stripe.json",
        tmp_path / "stripe.log",
        webhook_url=f"{server.url}/api/webhooks/stripe",
        extra_args=("--no-legacy-fields",),
    )
    server.extra_env = {
        # Stripe sends people back to PUBLIC_URL.
        "PUBLIC_URL": server.url,
        "STRIPE_SECRET_KEY": API_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": sandbox.url,
    }
    sandbox.start()
    try:
        server.start()
        yield server, sandbox
        server.stop()
    finally:
        sandbox.stop()


# Debian's Chromium, driven by Playwright (its own browser download cannot work here). The
# flags keep it from reaching for Google's hosts, which this machine's closed network refuses.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = PROJECT_ROOT / "test-results" / "screenshots"


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Chromium for one test. Playwright's sync API keeps an event loop running in this thread
    while it is open, which would break every async test after it, so it never outlives a test."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context per test: no cookies or storage carried over."""
    context = browser.new_context()
    new_page = context.new_page()
    yield new_page
    context.close()


def shoot_light_and_dark(page: Page, folder: Path, name: str) -> None:
    """Full-page screenshots `<name>-light.png` and `<name>-dark.png`; leaves the light theme."""
    folder.mkdir(parents=True, exist_ok=True)
    for theme in ("light", "dark"):
        page.emulate_media(color_scheme=theme)
        page.screenshot(path=folder / f"{name}-{theme}.png", full_page=True)
    page.emulate_media(color_scheme="light")


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


@pytest.fixture(scope="module")
def shared_live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One live server for a whole module of HTTP flow tests.

    Booting uvicorn costs 1-2 s, and the account flows number dozens; each test signs up its
    own fresh email address, so tests share the server but never an account.
    """
    state = tmp_path_factory.mktemp("live")
    server = LiveServer(state / "state", state / "server.log")
    server.start()
    yield server
    server.stop()
