from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Page

from tests.conftest import LiveServer, screenshot

pytestmark = pytest.mark.browser


def test_landing_page_renders_without_console_errors(live_server: LiveServer, page: Page) -> None:
    errors: list[str] = []
    page.on("console", lambda message: _collect_error(message, errors))
    page.on("pageerror", lambda error: errors.append(str(error)))
    response = page.goto(live_server.url + "/")
    assert response is not None and response.status == 200
    assert page.get_by_role("heading", level=1).inner_text() == "Type a feeling. Hear a track."
    assert page.title() == "Beat Bun"
    assert screenshot(page, "landing").stat().st_size > 10_000
    assert errors == []


def _collect_error(message: ConsoleMessage, errors: list[str]) -> None:
    if message.type == "error":
        errors.append(message.text)
