"""管理看板 end to end: a province built through the public API, its admin signs in on the page,
and every number the page shows equals the insights API's, at the province, a city and a county
(drilled down by clicking, and back up by the breadcrumb); the teachers behind a number; the
ops panel; at phone width (375 px) the page does not scroll sideways. Screenshots go to
test-artifacts/dashboard/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import PHONE, body_overflow, screenshot
from tests.province.world import CITY_A, COUNTY_A, PASSWORD, PROVINCE, World
from yanxiu.testing import eventually

FUNNEL = (
    "registered",
    "plan_active",
    "started",
    "requirements_met",
    "credits_registered",
    "certificates_issued",
)
ROW_FIELDS = (*FUNNEL, "offline_waiting")
INSIGHTS = "/api/v1/insights"


async def api(world: World, path: str, **params: Any) -> Any:
    answer = await world.client.get(
        f"{INSIGHTS}{path}", params=params, headers=world.auth("province")
    )
    assert answer.status_code == 200, f"{path}: {answer.status_code} {answer.text}"
    return answer.json()


async def sign_in(page: Page, gateway: str) -> None:
    await page.goto(f"{gateway}/dashboard/")
    await page.get_by_test_id("signin-username").fill("province")
    await page.get_by_test_id("signin-password").fill(PASSWORD)
    await page.get_by_test_id("signin-submit").click()
    await page.get_by_test_id("num-registered").wait_for(state="visible")


async def at_org(page: Page, org_id: str) -> None:
    """Waits until the page shows this org (its breadcrumb ends with it)."""
    here = page.locator(f'[data-testid="crumb-{org_id}"][aria-current="page"]')
    await here.wait_for(state="visible")


async def check_org(page: Page, world: World, project: str, org_id: str) -> dict[str, Any]:
    """The cards equal /overview and the table equals /orgs, for this org."""
    overview = await api(world, f"/projects/{project}/overview", org_id=org_id)
    orgs = await api(world, f"/projects/{project}/orgs", org_id=org_id)
    assert overview["org"]["org_id"] == org_id
    await expect(page.get_by_test_id("org-name")).to_contain_text(overview["org"]["name"])
    for key in FUNNEL:
        shown = await page.get_by_test_id(f"num-{key}").get_attribute("data-value")
        assert shown == str(overview["funnel"][key]), (org_id, key)
    rows = page.locator('[data-testid^="org-row-"]')
    assert await rows.count() == len(orgs["items"])
    for item in orgs["items"]:
        row = page.get_by_test_id(f"org-row-{item['org_id']}")
        await expect(row).to_contain_text(item["name"])
        for key in ROW_FIELDS:
            cell = page.get_by_test_id(f"org-{item['org_id']}-{key}")
            assert await cell.get_attribute("data-value") == str(item[key]), (item["org_id"], key)
        rate = await page.get_by_test_id(f"org-{item['org_id']}-met_rate").get_attribute(
            "data-value"
        )
        if item["met_rate"] is None:
            assert rate == ""
        else:
            assert rate is not None and abs(float(rate) - item["met_rate"]) < 1e-9
        drill = page.get_by_test_id(f"drill-{item['org_id']}")
        assert await drill.count() == (1 if item["has_children"] else 0)
    crumbs = [p["org_id"] for p in overview["path"]]
    for org in crumbs:
        assert await page.get_by_test_id(f"crumb-{org}").count() == 1
    return overview


async def test_province_admin_drills_down_and_sees_the_apis_numbers(
    browser: Browser, page: Page, world: World, urls: dict[str, str], dashboard_built: Path
) -> None:
    project = world.ids["project"]
    gateway = urls["gateway"]

    async def registered() -> bool:
        found = await api(world, f"/projects/{project}/overview")
        return found["funnel"]["registered"] >= 4

    await eventually(registered, timeout=60, interval=0.5)

    await sign_in(page, gateway)
    await page.get_by_test_id("project-select").select_option(project)
    await at_org(page, PROVINCE)
    province = await check_org(page, world, project, PROVINCE)
    assert province["funnel"]["registered"] >= 4
    await expect(page.get_by_test_id("ops-panel")).to_be_visible()
    await expect(page.get_by_test_id("ops-row-enrollment")).to_be_visible()
    await screenshot(page, "province")

    await page.get_by_test_id(f"drill-{CITY_A}").click()
    await at_org(page, CITY_A)
    await check_org(page, world, project, CITY_A)
    await screenshot(page, "city")

    await page.get_by_test_id(f"drill-{COUNTY_A}").click()
    await at_org(page, COUNTY_A)
    county = await check_org(page, world, project, COUNTY_A)
    await screenshot(page, "county")

    # The teachers behind a number: the API's first page, names masked by the API.
    teachers = await api(
        world, f"/projects/{project}/teachers", org_id=COUNTY_A, metric="registered", limit=20
    )
    await page.get_by_test_id("num-registered").click()
    panel = page.get_by_test_id("teachers-panel")
    await expect(panel).to_be_visible()
    rows = panel.get_by_test_id("teacher-row")
    await expect(rows).to_have_count(len(teachers["items"]))
    assert len(teachers["items"]) == min(20, county["funnel"]["registered"])
    for item in teachers["items"]:
        await expect(panel).to_contain_text(item["name"])
    await screenshot(page, "teachers")
    await page.get_by_test_id("teachers-close").click()
    await expect(panel).to_be_hidden()

    # Back up by the breadcrumb.
    await page.get_by_test_id(f"crumb-{PROVINCE}").click()
    await at_org(page, PROVINCE)
    await check_org(page, world, project, PROVINCE)

    await page.get_by_test_id("signout").click()
    await expect(page.get_by_test_id("signin-form")).to_be_visible()

    # At phone width: cards in one or two columns, wide tables scroll inside their own box.
    phone = await browser.new_context(locale="zh-CN", viewport=PHONE)
    try:
        small = await phone.new_page()
        await sign_in(small, gateway)
        await small.get_by_test_id("project-select").select_option(project)
        await at_org(small, PROVINCE)
        assert await body_overflow(small) == 0
        await screenshot(small, "province-375")
        await small.get_by_test_id(f"drill-{CITY_A}").click()
        await at_org(small, CITY_A)
        await small.get_by_test_id(f"drill-{COUNTY_A}").click()
        await at_org(small, COUNTY_A)
        assert await body_overflow(small) == 0
        await screenshot(small, "county-375")
    finally:
        await phone.close()
