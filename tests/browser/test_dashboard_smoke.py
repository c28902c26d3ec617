"""The built dashboard loads at /dashboard/ from the gateway alone, under its CSP, and shows
the sign-in form, also at phone width."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.async_api import Browser

from gateway.config import GatewaySettings
from gateway.main import create_app as gateway_app
from tests.browser.conftest import PHONE, body_overflow, screenshot
from yanxiu.testing import served


async def test_dashboard_page_loads_and_offers_the_sign_in_form(
    browser: Browser,
    page: Any,
    dashboard_built: Path,
    settings_for: Callable[..., Any],
    keypair: tuple[str, str],
) -> None:
    settings = settings_for(
        GatewaySettings,
        jwt_private_key=keypair[0],
        run_consumers=False,
        dashboard_dir=str(dashboard_built),
    )
    async with served(gateway_app(settings)) as gateway:
        answer = await page.goto(f"{gateway}/dashboard/")
        assert answer is not None and answer.status == 200
        assert "default-src 'self'" in (answer.headers.get("content-security-policy") or "")
        form = page.get_by_test_id("signin-form")
        await form.wait_for(state="visible")
        assert await page.title() == "研修数据看板"
        assert await page.get_by_test_id("signin-submit").inner_text() == "登录"
        assert await page.get_by_test_id("signin-username").is_visible()
        await screenshot(page, "signin")
        # A wrong password is said so on the form, in Chinese.
        await page.get_by_test_id("signin-username").fill("nobody")
        await page.get_by_test_id("signin-password").fill("wrong-password")
        await page.get_by_test_id("signin-submit").click()
        error = page.get_by_test_id("signin-error")
        await error.wait_for(state="visible")
        assert await error.inner_text() == "用户名或密码错误"

        phone = await browser.new_context(locale="zh-CN", viewport=PHONE)
        small = await phone.new_page()
        await small.goto(f"{gateway}/dashboard")
        await small.get_by_test_id("signin-form").wait_for(state="visible")
        assert await body_overflow(small) == 0
        await screenshot(small, "signin-375")
        await phone.close()
