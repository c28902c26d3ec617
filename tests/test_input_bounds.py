"""Every number, date, string, list and map a route of a service (enrollment, learning, credits,
lessons, and the gateway's own) accepts is bounded in its OpenAPI, so validated by pydantic
before it reaches PostgreSQL or date arithmetic: a parameter or body property added without
bounds fails here. Issue #12, point 6: hostile input is a 4xx, never a 500. Bounded types for
the common cases are in yanxiu.kit.bounds (Year, Day, Moment, OrgId, Cursor)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from yanxiu.kit.auth import generate_keypair

SERVICES = ("enrollment", "learning", "credits", "lessons", "gateway")

# (service, where) → why it needs no bound of its own. `where` is as reported below.
EXEMPT: dict[tuple[str, str], str] = {
    # The upload itself: bounded by size, rows and columns in enrollment.imports.limits.
    (
        "enrollment",
        "POST /teachers/import body[multipart/form-data].file",
    ): "a file, limited in enrollment.imports.limits",
}

KEY = generate_keypair()[0]
_MIN = ("minimum", "exclusiveMinimum")
_MAX = ("maximum", "exclusiveMaximum")
_FREE_FORMATS = {"uuid", "binary"}


def _schema(spec: dict[str, Any], node: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    ref = node.get("$ref")
    if ref is None:
        return None, node
    name = ref.rsplit("/", 1)[-1]
    return name, spec["components"]["schemas"][name]


def unbounded(
    spec: dict[str, Any], node: dict[str, Any], where: str, seen: frozenset[str] = frozenset()
) -> Iterator[tuple[str, str]]:
    """(where, what is missing) for every value under `node` that lacks a bound."""
    name, node = _schema(spec, node)
    if name is not None:
        if name in seen:
            return
        seen = seen | {name}
    branches = [b for key in ("anyOf", "oneOf", "allOf") for b in node.get(key, [])]
    # pydantic renders a Decimal as number-or-string; the string is parsed into the number,
    # whose bounds then apply.
    decimal = any(_schema(spec, b)[1].get("type") == "number" for b in branches)
    for branch in branches:
        b = _schema(spec, branch)[1]
        if decimal and b.get("type") == "string" and set(b) <= {"type", "pattern"}:
            continue
        yield from unbounded(spec, branch, where, seen)
    kind = node.get("type")
    if kind in ("integer", "number"):
        if not any(k in node for k in _MIN):
            yield where, "minimum"
        if not any(k in node for k in _MAX):
            yield where, "maximum"
    elif kind == "string":
        fmt = node.get("format")
        if fmt in ("date", "date-time"):
            if "formatMinimum" not in node or "formatMaximum" not in node:
                yield where, f"{fmt} range (yanxiu.kit.bounds.Day / Moment)"
        elif not ({"maxLength", "enum", "const"} & set(node)) and fmt not in _FREE_FORMATS:
            yield where, "maxLength"
    elif kind == "array":
        if "maxItems" not in node:
            yield where, "maxItems"
        for i, item in enumerate(node.get("prefixItems", [])):
            yield from unbounded(spec, item, f"{where}[{i}]", seen)
        if isinstance(node.get("items"), dict):
            yield from unbounded(spec, node["items"], f"{where}[]", seen)
    if kind == "object" or "properties" in node:
        for prop, sub in node.get("properties", {}).items():
            yield from unbounded(spec, sub, f"{where}.{prop}", seen)
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            if "maxProperties" not in node:
                yield where, "maxProperties"
            yield from unbounded(spec, extra, f"{where}.*", seen)


def operation_inputs(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for param in op.get("parameters", []):
                yield (
                    f"{method.upper()} {path} {param['in']}:{param['name']}",
                    param.get("schema", {}),
                )
            for media, content in op.get("requestBody", {}).get("content", {}).items():
                yield f"{method.upper()} {path} body[{media}]", content.get("schema", {})


def app_of(service: str) -> FastAPI:
    main = importlib.import_module(f"{service}.main")
    if service != "gateway":
        app: FastAPI = main.create_app()
        return app
    from gateway.config import GatewaySettings

    settings = GatewaySettings.model_validate(
        {"database_url": "postgresql+asyncpg://unused@127.0.0.1/unused", "jwt_private_key": KEY}
    )
    gateway: FastAPI = main.create_app(settings)
    return gateway


def findings(service: str) -> list[str]:
    spec = app_of(service).openapi()  # the gateway's own routes; each service's are above
    out = []
    for where, schema in operation_inputs(spec):
        for place, missing in unbounded(spec, schema, where):
            if (service, place) not in EXEMPT:
                out.append(f"{place}: no {missing}")
    return sorted(set(out))


@pytest.mark.parametrize("service", SERVICES)
def test_every_number_date_and_string_a_route_accepts_is_bounded(service: str) -> None:
    missing = findings(service)
    assert not missing, f"{service}: unbounded inputs\n" + "\n".join(missing)


def test_the_check_itself_spots_an_unbounded_year() -> None:
    spec: dict[str, Any] = {
        "paths": {
            "/x": {
                "get": {
                    "parameters": [
                        {"in": "query", "name": "year", "schema": {"type": "integer"}},
                        {
                            "in": "query",
                            "name": "as_of",
                            "schema": {"format": "date", "type": "string"},
                        },
                    ]
                }
            }
        },
        "components": {"schemas": {}},
    }
    found = [
        (where, missing)
        for where, schema in operation_inputs(spec)
        for where, missing in unbounded(spec, schema, where)
    ]
    assert ("GET /x query:year", "minimum") in found
    assert ("GET /x query:year", "maximum") in found
    assert any(where == "GET /x query:as_of" for where, _ in found)
