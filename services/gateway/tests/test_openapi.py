"""The merged OpenAPI document at /openapi.json and Swagger UI at /docs."""

from __future__ import annotations

from typing import Any

from gateway.openapi import merge, namespace
from yanxiu.testing import free_port


def refs_in(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in refs_in(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs_in(v)]
    return []


def resolves(doc: dict[str, Any], ref: str) -> bool:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


SERVICE_DOC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "x", "version": "1"},
    "tags": [{"name": "pets", "description": "宠物"}],
    "paths": {
        "/pets/{id}": {
            "parameters": [{"$ref": "#/components/parameters/Id"}],
            "get": {
                "tags": ["pets"],
                "operationId": "get_pet",
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}
                        },
                    }
                },
            },
        },
        "/readyz": {"get": {"responses": {"200": {"description": "ok"}}}},
    },
    "components": {
        "schemas": {
            "Pet": {
                "oneOf": [
                    {"$ref": "#/components/schemas/Cat"},
                    {"$ref": "#/components/schemas/a~1b"},
                ],
                "discriminator": {
                    "propertyName": "kind",
                    "mapping": {"cat": "#/components/schemas/Cat"},
                },
            },
            "Cat": {"type": "object", "properties": {"$ref": {"type": "string"}}},
            "a/b": {"type": "object"},
        },
        "parameters": {"Id": {"name": "id", "in": "path", "required": True}},
        "securitySchemes": {"providerKey": {"type": "apiKey", "in": "header", "name": "X-Key"}},
    },
    "security": [{"providerKey": []}],
}


def test_namespace_renames_components_and_keeps_refs_valid() -> None:
    merged = merge({"openapi": "3.1.0", "paths": {}}, {"credits": SERVICE_DOC, "lessons": None})
    assert set(merged["paths"]) == {"/api/v1/credits/pets/{id}"}
    assert {"credits.Pet", "credits.Cat", "credits.a/b"} <= set(merged["components"]["schemas"])
    assert all(resolves(merged, ref) for ref in refs_in(merged)), refs_in(merged)
    pet = merged["components"]["schemas"]["credits.Pet"]
    assert pet["discriminator"]["mapping"]["cat"] == "#/components/schemas/credits.Cat"
    op = merged["paths"]["/api/v1/credits/pets/{id}"]["get"]
    assert op["tags"] == ["credits.pets"] and op["operationId"] == "credits_get_pet"
    assert op["security"] == [{"credits.providerKey": []}]
    assert merged["tags"] == [{"name": "credits.pets", "description": "宠物"}]
    assert merged["x-unavailable-services"] == ["lessons"]
    assert namespace("credits", SERVICE_DOC)["paths"]  # the input is left as it was
    assert "Pet" in SERVICE_DOC["components"]["schemas"]


async def test_merged_openapi_prefixes_service_paths(
    gateway: Any, upstream_url: str, second_upstream_url: str
) -> None:
    async with gateway(enrollment_url=upstream_url, learning_url=second_upstream_url) as client:
        answer = await client.get("/openapi.json")
    assert answer.status_code == 200
    doc = answer.json()
    paths = doc["paths"]
    assert "/api/v1/auth/token" in paths and "/api/v1/auth/me" in paths
    assert "/api/v1/enrollment/teachers/{teacher_id}" in paths
    assert "/api/v1/learning/teachers/{teacher_id}" in paths
    assert "/api/v1/enrollment/readyz" not in paths
    assert not any(p.startswith("/api/v1/{") for p in paths)  # the proxy route is hidden
    schemas = doc["components"]["schemas"]
    # Both services have a TeacherRead; each keeps its own.
    assert {"enrollment.TeacherRead", "learning.TeacherRead", "enrollment.SchoolRead"} <= set(
        schemas
    )
    assert all(resolves(doc, ref) for ref in refs_in(doc))
    get_teacher = paths["/api/v1/enrollment/teachers/{teacher_id}"]["get"]
    assert get_teacher["tags"] == ["enrollment.teachers"]
    ids = [op["operationId"] for item in paths.values() for op in item.values()]
    assert len(ids) == len(set(ids))
    assert doc["x-unavailable-services"] == ["credits", "lessons"]


async def test_merged_openapi_lets_swagger_authorize_with_a_bearer_token(gateway: Any) -> None:
    async with gateway() as client:
        doc = (await client.get("/openapi.json")).json()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["OAuth2Password"]["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    assert {"bearerAuth": []} in doc["security"]
    assert doc["paths"]["/api/v1/auth/token"]["post"]["security"] == []
    token_body = doc["paths"]["/api/v1/auth/token"]["post"]["requestBody"]["content"]
    assert {"application/json", "application/x-www-form-urlencoded"} <= set(token_body)
    assert doc["x-unavailable-services"] == ["enrollment", "learning", "credits", "lessons"]


async def test_merged_openapi_is_cached_briefly(gateway: Any, serve_upstream: Any) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with gateway(credits_url=url, openapi_cache_seconds=60) as client:
        async with serve_upstream("credits", port):
            while_up = (await client.get("/openapi.json")).json()
        after_it_stopped = (await client.get("/openapi.json")).json()
    async with gateway(credits_url=url, openapi_cache_seconds=60) as client:
        rebuilt = (await client.get("/openapi.json")).json()
    assert "/api/v1/credits/teachers/{teacher_id}" in while_up["paths"]
    assert after_it_stopped == while_up
    assert "credits" in rebuilt["x-unavailable-services"]
    assert "/api/v1/credits/teachers/{teacher_id}" not in rebuilt["paths"]


async def test_docs_serve_swagger_ui_for_the_merged_document(gateway: Any) -> None:
    async with gateway() as client:
        page = await client.get("/docs")
        redirect = await client.get("/docs/oauth2-redirect")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assert "/openapi.json" in page.text and "/docs/oauth2-redirect" in page.text
    assert redirect.status_code == 200
