"""The platform's one OpenAPI document: the gateway's own routes plus each service's document
re-rooted under /api/v1/<service>, cached briefly; Swagger UI for it at /docs."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

Doc = dict[str, Any]

HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
# Each service's probes are summed up by the gateway's /readyz; listing them five times is noise.
OPS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
TOKEN_URL = "/api/v1/auth/token"
SECURITY_SCHEMES: Doc = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "令牌来自 /api/v1/auth/token (token from /api/v1/auth/token)",
    },
    "OAuth2Password": {
        "type": "oauth2",
        "flows": {"password": {"tokenUrl": TOKEN_URL, "scopes": {}}},
    },
}
SECURITY: list[Doc] = [{"bearerAuth": []}, {"OAuth2Password": []}]


def _pointer(name: str) -> str:
    """A name as a JSON-pointer segment (RFC 6901)."""
    return name.replace("~", "~0").replace("/", "~1")


def _rewrite_refs(node: Any, renames: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        out: Doc = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out[key] = renames.get(value, value)
            elif key == "mapping" and isinstance(value, dict):  # discriminator targets
                out[key] = {
                    k: renames.get(v, v) if isinstance(v, str) else _rewrite_refs(v, renames)
                    for k, v in value.items()
                }
            else:
                out[key] = _rewrite_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(item, renames) for item in node]
    return node


def namespace(service: str, doc: Doc) -> Doc:
    """A service's document made safe to merge: paths under /api/v1/<service>, components
    renamed `<service>.<Name>` (every $ref follows), operation ids and tags prefixed."""
    components: Doc = {}
    renames: dict[str, str] = {}
    for section, entries in (doc.get("components") or {}).items():
        if not isinstance(entries, dict):
            continue
        components[section] = {}
        for name, value in entries.items():
            new = f"{service}.{name}"
            components[section][new] = value
            renames[f"#/components/{section}/{_pointer(name)}"] = (
                f"#/components/{section}/{_pointer(new)}"
            )
    components = _rewrite_refs(components, renames)
    declared = (doc.get("components") or {}).get("securitySchemes") or {}
    schemes = {name: f"{service}.{name}" for name in declared}
    default_security = doc.get("security")

    paths: Doc = {}
    for path, item in (doc.get("paths") or {}).items():
        if path in OPS_PATHS or not isinstance(item, dict):
            continue
        item = _rewrite_refs(item, renames)
        for method, op in item.items():
            if method not in HTTP_METHODS or not isinstance(op, dict):
                continue
            op["tags"] = [f"{service}.{tag}" for tag in op.get("tags") or []] or [service]
            if "operationId" in op:
                op["operationId"] = f"{service}_{op['operationId']}"
            security = op.get("security", default_security)
            if security is not None:
                op["security"] = [
                    {schemes.get(k, k): v for k, v in requirement.items()}
                    for requirement in security
                ]
        paths[f"/api/v1/{service}{path}"] = item

    tags = [
        {**tag, "name": f"{service}.{tag['name']}"}
        for tag in doc.get("tags") or []
        if isinstance(tag, dict) and "name" in tag
    ]
    return {"paths": paths, "components": components, "tags": tags}


def merge(own: Doc, services: Mapping[str, Doc | None]) -> Doc:
    """The gateway's document with every available service's merged in; the missing ones are
    listed under `x-unavailable-services`."""
    doc = copy.deepcopy(own)
    doc.setdefault("paths", {})
    components = doc.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(copy.deepcopy(SECURITY_SCHEMES))
    # The gateway's own operations are public unless they declare otherwise (auth/me does);
    # the services' operations inherit the bearer requirement from the top level.
    for item in doc["paths"].values():
        for method, op in item.items():
            if method in HTTP_METHODS:
                op.setdefault("security", [])
    doc["security"] = copy.deepcopy(SECURITY)
    tags: list[Doc] = list(doc.get("tags") or [])
    unavailable: list[str] = []
    for service, service_doc in services.items():
        if service_doc is None:
            unavailable.append(service)
            continue
        part = namespace(service, copy.deepcopy(service_doc))
        doc["paths"].update(part["paths"])
        for section, entries in part["components"].items():
            components.setdefault(section, {}).update(entries)
        tags.extend(part["tags"])
    if tags:
        doc["tags"] = tags
    doc["x-unavailable-services"] = unavailable
    return doc


async def fetch_service_doc(
    client: httpx.AsyncClient, base_url: str, *, timeout: float
) -> Doc | None:
    """A service's /openapi.json, or None when it cannot be had."""
    try:
        answer = await client.get(f"{base_url}/openapi.json", timeout=timeout)
        doc = answer.json() if answer.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("paths"), dict) else None


class MergedOpenAPI:
    """The merged document, rebuilt at most every `ttl` seconds (sooner while a service is
    missing, so that it reappears quickly once it is back)."""

    def __init__(self, *, ttl: float, retry_missing_after: float = 5.0) -> None:
        self.ttl = ttl
        self.retry_missing_after = min(ttl, retry_missing_after)
        self._doc: Doc | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def get(self, build: Callable[[], Awaitable[Doc]]) -> Doc:
        if self._doc is not None and time.monotonic() < self._expires:
            return self._doc
        async with self._lock:
            if self._doc is None or time.monotonic() >= self._expires:
                doc = await build()
                ttl = self.retry_missing_after if doc["x-unavailable-services"] else self.ttl
                self._doc, self._expires = doc, time.monotonic() + ttl
            return self._doc


async def build_merged(
    own: Doc, client: httpx.AsyncClient, upstreams: Mapping[str, str], *, timeout: float
) -> Doc:
    docs = await asyncio.gather(
        *(fetch_service_doc(client, url, timeout=timeout) for url in upstreams.values())
    )
    return merge(own, dict(zip(upstreams, docs, strict=True)))
