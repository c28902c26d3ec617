"""The merged OpenAPI document at /openapi.json and Swagger UI at /docs."""

from __future__ import annotations

import copy
from typing import Any

from gateway.openapi import merge, namespace

OPERATIONS = ("get", "put", "post", "delete", "patch")


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


PROBLEM = {"type": "object", "title": "Problem"}
SERVICE_DOC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "x", "version": "1"},
    "tags": [{"name": "pets", "description": "宠物"}],
    "paths": {
        "/pets/{id}": {
            "parameters": [{"$ref": "#/components/parameters/Id"}],
            "get": {
                "tags": ["pets"],
                "operationId": "getPet",
                "security": [{"providerKey": []}],
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
        "/audit": {
            "get": {"operationId": "listAudit", "security": [{"bearerAuth": []}], "responses": {}}
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
            "Problem": PROBLEM,
        },
        "parameters": {"Id": {"name": "id", "in": "path", "required": True}},
        "securitySchemes": {
            "providerKey": {"type": "apiKey", "in": "header", "name": "X-Key"},
            "bearerAuth": {"type": "http", "scheme": "bearer"},
        },
    },
}
OWN_DOC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "gateway", "version": "1"},
    "paths": {
        "/api/v1/auth/token": {"post": {"operationId": "issueToken", "security": []}},
        "/api/v1/auth/audit": {
            "get": {"operationId": "listAudit", "security": [{"bearerAuth": []}]}
        },
    },
}


def test_namespace_renames_components_but_the_shared_ones_and_keeps_refs_valid() -> None:
    before = copy.deepcopy(SERVICE_DOC)
    merged = merge(OWN_DOC, {"credits": SERVICE_DOC})
    assert before == SERVICE_DOC  # the input is left as it was
    assert set(merged["paths"]) == {
        "/api/v1/auth/token",
        "/api/v1/auth/audit",
        "/api/v1/credits/pets/{id}",
        "/api/v1/credits/audit",
    }
    schemas = merged["components"]["schemas"]
    assert {"credits.Pet", "credits.Cat", "credits.a/b", "Problem"} <= set(schemas)
    assert all(resolves(merged, ref) for ref in refs_in(merged)), refs_in(merged)
    pet = schemas["credits.Pet"]
    assert pet["discriminator"]["mapping"]["cat"] == "#/components/schemas/credits.Cat"
    op = merged["paths"]["/api/v1/credits/pets/{id}"]["get"]
    assert op["tags"] == ["credits.pets"] and op["operationId"] == "getPet"
    assert op["security"] == [{"providerKey": []}]  # one scheme for the platform, not renamed
    assert set(merged["components"]["securitySchemes"]) == {
        "providerKey",
        "bearerAuth",
        "OAuth2Password",
    }
    assert merged["tags"] == [{"name": "credits.pets", "description": "宠物"}]
    assert "x-unavailable-services" not in merged
    assert namespace("credits", SERVICE_DOC)["paths"]


def test_an_operation_id_in_several_parts_gets_its_part_as_a_prefix() -> None:
    merged = merge(OWN_DOC, {"credits": SERVICE_DOC, "lessons": SERVICE_DOC})
    ids = {
        path: op["operationId"]
        for path, item in merged["paths"].items()
        for method, op in item.items()
        if method in OPERATIONS
    }
    assert ids["/api/v1/auth/token"] == "issueToken"
    assert ids["/api/v1/auth/audit"] == "authListAudit"
    assert ids["/api/v1/credits/audit"] == "creditsListAudit"
    assert ids["/api/v1/lessons/pets/{id}"] == "lessonsGetPet"
    assert len(set(ids.values())) == len(ids)


def test_the_gateway_adds_what_it_answers_itself() -> None:
    merged = merge(OWN_DOC, {"credits": SERVICE_DOC})
    audit = merged["paths"]["/api/v1/credits/audit"]["get"]
    assert audit["security"] == [{"bearerAuth": []}, {"OAuth2Password": []}]
    assert audit["responses"]["429"]["x-problem-codes"] == ["rate_limited"]
    assert "service_unavailable" in audit["responses"]["503"]["x-problem-codes"]
    assert {"session_revoked", "token_expired"} <= set(audit["responses"]["401"]["x-problem-codes"])
    token = merged["paths"]["/api/v1/auth/token"]["post"]
    assert token["security"] == [] and "503" not in token["responses"]  # not forwarded
    assert "security" not in merged  # each operation says its own
    codes = {(p["code"], p["status"]) for p in merged["x-problem-codes"]}
    assert {("rate_limited", 429), ("validation_failed", 422)} <= codes


async def test_a_complete_document_from_the_first_request_with_every_service_down(
    gateway: Any,
) -> None:
    async with gateway() as client:  # every upstream is a closed port
        answer = await client.get("/openapi.json")
    assert answer.status_code == 200
    doc = answer.json()
    paths = doc["paths"]
    for path in (
        "/api/v1/auth/token",
        "/api/v1/enrollment/teachers/{teacher_id}",
        "/api/v1/learning/providers/{provider_id}/completions",
        "/api/v1/credits/certificates/verify/{code}",
        "/api/v1/lessons/lessons",
    ):
        assert path in paths
    assert "/api/v1/enrollment/readyz" not in paths
    assert not any(p.startswith("/api/v1/{") for p in paths)  # the proxy route is hidden
    assert {"enrollment.TeacherRead", "credits.VerifyOut"} <= set(doc["components"]["schemas"])
    assert all(resolves(doc, ref) for ref in refs_in(doc))
    assert "x-unavailable-services" not in doc


async def test_swagger_can_authorize_with_a_password_or_a_bearer_token(gateway: Any) -> None:
    async with gateway() as client:
        doc = (await client.get("/openapi.json")).json()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["OAuth2Password"]["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    me = doc["paths"]["/api/v1/auth/me"]["get"]
    assert me["security"] == [{"bearerAuth": []}, {"OAuth2Password": []}]
    assert doc["paths"]["/api/v1/auth/token"]["post"]["security"] == []
    token_body = doc["paths"]["/api/v1/auth/token"]["post"]["requestBody"]["content"]
    assert {"application/json", "application/x-www-form-urlencoded"} <= set(token_body)


async def test_docs_serve_swagger_ui_for_the_merged_document(gateway: Any) -> None:
    async with gateway() as client:
        page = await client.get("/docs")
        redirect = await client.get("/docs/oauth2-redirect")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assert "/openapi.json" in page.text and "/docs/oauth2-redirect" in page.text
    assert redirect.status_code == 200
