"""The browser tests: the admins' dashboard driven in headless Chromium (Debian's, installed by
`make browser`) through Playwright. They run last, after the fast suites: each starts the
platform and a browser."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright

from yanxiu.devstack.paths import repo_root
from yanxiu.testing import free_port, served

CHROMIUM = Path("/usr/bin/chromium")
# The flags the closed network needs (no updates, sync or QUIC); Playwright gives each launch a
# fresh profile directory of its own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = repo_root() / "test-artifacts" / "dashboard"
DASHBOARD_DIST = repo_root() / "web" / "dashboard" / "dist"
PHONE = {"width": 375, "height": 812}
HERE = Path(__file__).parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives the dashboard in headless Chromium")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests marked, and moved behind every other test of the run."""
    mine, others = [], []
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)
            mine.append(item)
        else:
            others.append(item)
    items[:] = others + mine


@pytest.fixture(scope="session")
def dashboard_built() -> Path:
    if not (DASHBOARD_DIST / "index.html").is_file():
        pytest.fail("web/dashboard/dist is not built: run `make web` (make test does)")
    return DASHBOARD_DIST


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (make test does)")
    return CHROMIUM


@pytest_asyncio.fixture(scope="session")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


@pytest_asyncio.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    opened = await context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    opened.on("console", lambda m: errors.append(m.text) if _script_error(m) else None)
    yield opened
    await context.close()
    # A script error or a CSP refusal shows in the console: the page must have none.
    assert not errors, errors


def _script_error(message: ConsoleMessage) -> bool:
    """An error of the page's own (an answer's status, such as a refused sign-in's 401, is
    logged too, and is not one)."""
    return message.type == "error" and not message.text.startswith("Failed to load resource")


@pytest_asyncio.fixture
async def urls(
    settings_for: Callable[..., Any], keypair: tuple[str, str]
) -> AsyncIterator[dict[str, str]]:
    """The whole platform with the insights service the dashboard reads (tests.conftest's
    `world` builds its province on this). Insights is served here when tests.province.platform
    does not serve it itself; skipped while the gateway does not route /api/v1/insights."""
    from gateway.config import SERVICES as ROUTED
    from tests.province import platform as served_platform

    if "insights" not in ROUTED:
        pytest.skip("the gateway does not route /api/v1/insights yet (gateway.config.SERVICES)")
    if "insights" in served_platform.SERVICES:
        async with served_platform.platform(settings_for, keypair[0]) as found:
            yield found
        return
    from insights.config import Settings as InsightsSettings
    from insights.main import create_app as insights_app

    port = free_port()
    insights_url = f"http://127.0.0.1:{port}"
    async with served_platform.platform(
        settings_for, keypair[0], insights_url=insights_url
    ) as found:
        settings = settings_for(InsightsSettings, enrollment_url=found["enrollment"])
        async with served(insights_app(settings), port=port):
            yield {**found, "insights": insights_url}


async def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


async def body_overflow(page: Page) -> int:
    """How far the page is wider than the viewport (0: no horizontal scrolling)."""
    width: int = await page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - document.documentElement.clientWidth"
    )
    return width
