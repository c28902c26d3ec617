"""管理看板 at /dashboard/: the built page with its hashed assets cached for good and its index
never, under a Content-Security-Policy; a clear 503 page while it has not been built."""

from __future__ import annotations

from pathlib import Path

from services.gateway.tests.conftest import GatewayFactory


def built(root: Path) -> Path:
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>研修数据看板</title>", "utf-8")
    (root / "assets" / "index-abc123.js").write_text("console.log(1)", "utf-8")
    (root / "favicon.svg").write_text("<svg/>", "utf-8")
    return root


async def test_index_is_served_uncached_and_assets_for_good(
    gateway: GatewayFactory, tmp_path: Path
) -> None:
    dist = built(tmp_path / "dist")
    (tmp_path / "secret.txt").write_text("not served", "utf-8")
    async with gateway(dashboard_dir=str(dist)) as client:
        pages = [
            await client.get(p) for p in ("/dashboard/", "/dashboard", "/dashboard/index.html")
        ]
        asset = await client.get("/dashboard/assets/index-abc123.js")
        icon = await client.get("/dashboard/favicon.svg")
        missing = await client.get("/dashboard/assets/nope.js")
        outside = await client.get("/dashboard/..%2Fsecret.txt")
    for page in pages:
        assert page.status_code == 200 and "研修数据看板" in page.text
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["cache-control"] == "no-cache"
        csp = page.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"]
    assert "content-security-policy" in asset.headers
    assert icon.status_code == 200 and icon.headers["cache-control"] == "no-cache"
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert outside.status_code == 404


async def test_unbuilt_dashboard_is_a_503_page_saying_how_to_build_it(
    gateway: GatewayFactory, tmp_path: Path
) -> None:
    async with gateway(dashboard_dir=str(tmp_path / "nothing")) as client:
        page = await client.get("/dashboard/")
    assert page.status_code == 503
    assert "看板尚未构建" in page.text and "make web" in page.text
    assert page.headers["cache-control"] == "no-store"
