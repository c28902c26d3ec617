"""管理看板 (the admins' dashboard): the built web/dashboard/dist served at /dashboard/. The page
is public and self-contained (no CDN); its data comes from the API with the caller's token."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, HTMLResponse

from gateway.ops import NoSuchRoute

# Everything the page loads is its own; ECharts' tooltips carry inline style attributes.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# Vite names every built asset by its content hash: a changed file is a new URL.
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"

NOT_BUILT = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>看板尚未构建</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>管理看板尚未构建</h1>
<p>请在仓库根目录运行 <code>make web</code>（web/dashboard 中 npm ci 与 npm run build）后刷新。</p>
<p>The dashboard has not been built: run <code>make web</code>.</p></body></html>
"""


def default_dist_dir() -> Path:
    """web/dashboard/dist of the repository this package is checked out in (src layout:
    services/gateway/src/gateway/dashboard.py), else of the working directory."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "web" / "dashboard").is_dir():
            return parent / "web" / "dashboard" / "dist"
    return Path.cwd() / "web" / "dashboard" / "dist"


def _dist(request: Request) -> Path:
    configured: str = request.app.state.runtime.settings.dashboard_dir
    return Path(configured) if configured else default_dist_dir()


def _headers(cache: str) -> dict[str, str]:
    return {**SECURITY_HEADERS, "Cache-Control": cache}


def _index(dist: Path) -> Response:
    index = dist / "index.html"
    if not index.is_file():
        return HTMLResponse(NOT_BUILT, status_code=503, headers=_headers("no-store"))
    return FileResponse(index, media_type="text/html; charset=utf-8", headers=_headers(NO_CACHE))


dashboard = APIRouter(include_in_schema=False)


@dashboard.get("/dashboard")
@dashboard.get("/dashboard/")
async def dashboard_index(request: Request) -> Response:
    return _index(_dist(request))


@dashboard.get("/dashboard/{path:path}")
async def dashboard_file(path: str, request: Request) -> Response:
    dist = _dist(request).resolve()
    target = (dist / path).resolve()
    # Only files inside dist: `..` and symlinks out of it are not served.
    if not target.is_relative_to(dist) or not target.is_file():
        raise NoSuchRoute()
    if target.name == "index.html":
        return _index(dist)
    cache = IMMUTABLE if target.parent.name == "assets" else NO_CACHE
    return FileResponse(target, headers=_headers(cache))
