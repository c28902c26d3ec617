"""The platform's one OpenAPI document: the gateway's own routes plus each service's document
re-rooted under /api/v1/<service>. Built in-process from the apps (no service need answer),
committed as docs/openapi.json and served from there at /openapi.json, Swagger UI at /docs.

`python -m gateway.openapi --write` (or `yanxiu openapi --write`) rewrites docs/openapi.json
and docs/problems.md; `--check` fails when either is stale, as a test does."""

from __future__ import annotations

import argparse
import copy
import functools
import importlib
import json
import logging
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from gateway.config import SERVICES
from gateway.errors import PayloadTooLarge, RateLimited, UpstreamUnavailable
from gateway.ratelimit import EXEMPT_PATHS
from gateway.sessions.errors import SessionRevoked, TokenTooOld
from yanxiu.kit.openapi import (
    HTTP_METHODS,
    SHARED_SCHEMAS,
    add_problems,
    problem_catalogue,
    problems_markdown,
)

Doc = dict[str, Any]
log = logging.getLogger(__name__)

# Each service's probes are summed up by the gateway's /readyz; listing them five times is noise.
OPS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
TOKEN_URL = "/api/v1/auth/token"
OWN = "auth"  # the gateway's own operations, as a part of the merge
OAUTH2: Doc = {
    "type": "oauth2",
    "description": "Swagger UI: sign in with a username and password for a bearer token",
    "flows": {"password": {"tokenUrl": TOKEN_URL, "scopes": {}}},
}
DOCUMENT = Path("docs") / "openapi.json"
PROBLEMS = Path("docs") / "problems.md"


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


def _operations(paths: Doc) -> list[Doc]:
    return [
        op
        for item in paths.values()
        if isinstance(item, dict)
        for method, op in item.items()
        if method in HTTP_METHODS and isinstance(op, dict)
    ]


def namespace(service: str, doc: Doc) -> Doc:
    """A service's document made safe to merge: paths under /api/v1/<service>, components
    renamed `<service>.<Name>` (every $ref follows) except the platform's shared ones (the
    Problem schema, the security schemes), tags prefixed. The input is left as it was."""
    doc = copy.deepcopy(doc)
    components: Doc = {}
    renames: dict[str, str] = {}
    for section, entries in (doc.get("components") or {}).items():
        if not isinstance(entries, dict):
            continue
        components[section] = {}
        for name, value in entries.items():
            shared = section == "securitySchemes" or (
                section == "schemas" and name in SHARED_SCHEMAS
            )
            new = name if shared else f"{service}.{name}"
            components[section][new] = value
            renames[f"#/components/{section}/{_pointer(name)}"] = (
                f"#/components/{section}/{_pointer(new)}"
            )
    components = _rewrite_refs(components, renames)

    paths: Doc = {}
    for path, item in (doc.get("paths") or {}).items():
        if path in OPS_PATHS or not isinstance(item, dict):
            continue
        item = _rewrite_refs(item, renames)
        for op in _operations({path: item}):
            op["tags"] = [f"{service}.{tag}" for tag in op.get("tags") or []] or [service]
        paths[f"/api/v1/{service}{path}"] = item

    tags = [
        {**tag, "name": f"{service}.{tag['name']}"}
        for tag in doc.get("tags") or []
        if isinstance(tag, dict) and "name" in tag
    ]
    return {"paths": paths, "components": components, "tags": tags}


def _prefix_colliding_ids(parts: Mapping[str, Doc]) -> None:
    """Operation ids are unique in each part; one found in several parts (the platform's
    shared routes: audit, dead letters, rosters) is prefixed with its part's name there."""
    counts = Counter(
        op["operationId"] for part in parts.values() for op in _operations(part["paths"])
    )
    for name, part in parts.items():
        for op in _operations(part["paths"]):
            given = op.get("operationId")
            if given and counts[given] > 1:
                op["operationId"] = name + given[:1].upper() + given[1:]


def _gateway_answers(op: Doc, *, proxied: bool, limited: bool) -> None:
    """What the gateway itself may answer for any operation it serves or forwards."""
    bearer = [r for r in op.get("security") or [] if "bearerAuth" in r]
    if bearer and {"OAuth2Password": []} not in op["security"]:
        at = op["security"].index(bearer[-1]) + 1
        op["security"].insert(at, {"OAuth2Password": []})
    if limited:
        add_problems(op, 429, RateLimited.code)
    if "requestBody" in op:
        add_problems(op, 413, PayloadTooLarge.code)
    if proxied:
        add_problems(op, 503, UpstreamUnavailable.code)
        if bearer:  # a token whose sign-in has ended is refused before it is forwarded
            add_problems(op, 401, SessionRevoked.code, TokenTooOld.code)


def merge(own: Doc, services: Mapping[str, Doc]) -> Doc:
    """The gateway's document with every service's merged in."""
    parts = {OWN: copy.deepcopy({"paths": own.get("paths") or {}})}
    parts.update({service: namespace(service, doc) for service, doc in services.items()})
    _prefix_colliding_ids(parts)

    doc = {k: copy.deepcopy(v) for k, v in own.items() if k not in ("paths", "components")}
    doc["paths"] = dict(parts[OWN]["paths"])  # its own /readyz stays: it reports every service
    components: Doc = copy.deepcopy(own.get("components") or {})
    tags: list[Doc] = list(doc.get("tags") or [])
    for service in services:
        part = parts[service]
        doc["paths"].update(part["paths"])
        for section, entries in part["components"].items():
            components.setdefault(section, {}).update(entries)
        tags.extend(part["tags"])
    for path, item in doc["paths"].items():
        for op in _operations({path: item}):
            _gateway_answers(
                op,
                proxied=path.startswith("/api/v1/") and not path.startswith(f"/api/v1/{OWN}/"),
                limited=path not in EXEMPT_PATHS,
            )
    components.setdefault("securitySchemes", {})["OAuth2Password"] = OAUTH2
    doc["components"] = {
        section: {k: entries[k] for k in sorted(entries)}
        for section, entries in sorted(components.items())
    }
    if tags:
        doc["tags"] = tags
    doc["x-problem-codes"] = [
        {"code": p.code, "status": p.status, "title_zh": p.title_zh, "title_en": p.title_en}
        for p in problem_catalogue()
    ]
    return doc


def platform_document(services: Sequence[str] = SERVICES) -> Doc:
    """The merged document, built in-process from the gateway's app and each service's."""
    from gateway.main import create_app

    docs = {
        name: importlib.import_module(f"{name}.main").create_app().openapi() for name in services
    }
    return merge(create_app().openapi(), docs)


def render(doc: Doc) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


@functools.cache
def served_document() -> Doc:
    """What /openapi.json serves: the committed document (docs/openapi.json, kept current by
    a test), or where it is missing (an install without the repository's docs) the same
    document built here."""
    from yanxiu.devstack.paths import repo_root

    try:
        path = repo_root() / DOCUMENT
        doc: Doc = json.loads(path.read_text(encoding="utf-8"))
        return doc
    except (OSError, RuntimeError, ValueError) as exc:
        log.warning("no committed OpenAPI document; building it", extra={"error": repr(exc)})
        return platform_document()


@functools.cache
def served_body() -> bytes:
    """`served_document()` as sent: encoded once, not on every request."""
    return json.dumps(served_document(), ensure_ascii=False).encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.openapi", description=__doc__)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="rewrite the committed files")
    action.add_argument("--check", action="store_true", help="fail if they are stale")
    args = parser.parse_args(argv)
    from yanxiu.devstack.paths import repo_root

    doc = platform_document()
    outputs = {
        repo_root() / DOCUMENT: render(doc),
        repo_root() / PROBLEMS: problems_markdown(problem_catalogue()),
    }
    if not (args.write or args.check):
        sys.stdout.write(outputs[repo_root() / DOCUMENT])
        return 0
    stale = [p for p, text in outputs.items() if not p.exists() or p.read_text() != text]
    if args.check:
        for path in stale:
            print(f"stale: {path} (run python -m gateway.openapi --write)", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_text(outputs[path], encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
