"""The platform's OpenAPI conventions (kit.openapi, kit.raises) on a small app: operation ids
from one rule, each operation's security and problem codes read from its code, the Problem
schema in place of FastAPI's HTTPValidationError."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request

from yanxiu.kit.deps import CurrentUser
from yanxiu.kit.errors import Conflict, NotFound
from yanxiu.kit.openapi import (
    PROBLEM_REF,
    Auth,
    document_auth,
    install_openapi,
    operation_id,
    problem_catalogue,
    problems_markdown,
)


class PetNotFound(NotFound):
    code = "pet_not_found"


class PetTaken(Conflict):
    code = "pet_taken"


class Registry:
    async def adopt(self, pet_id: uuid.UUID) -> None:
        if pet_id.int == 0:
            raise PetTaken()


def _load(pet_id: uuid.UUID) -> None:
    if pet_id.int == 1:
        raise PetNotFound()


async def signed_caller(request: Request) -> str:
    return request.headers.get("x-key", "")


SIGNED = Auth(
    security=({"petKey": []},),
    schemes={"petKey": {"type": "apiKey", "in": "header", "name": "X-Key"}},
)
document_auth(SIGNED, signed_caller)

router = APIRouter(generate_unique_id_function=operation_id)


@router.get("/pets/{pet_id}")
async def pet(pet_id: uuid.UUID, user: CurrentUser) -> dict[str, str]:
    _load(pet_id)
    return {}


@router.post("/pets/{pet_id}/adoption")
async def submit_adoption(
    pet_id: uuid.UUID, user: CurrentUser, registry: Annotated[Registry, Depends(Registry)]
) -> None:
    await registry.adopt(pet_id)


@router.get("/pets")
async def list_pets() -> list[str]:
    return []


@router.post("/feeds", operation_id="feedPets")
async def feeds(caller: Annotated[str, Depends(signed_caller)], body: dict[str, int]) -> None:
    return None


def document() -> dict[str, Any]:
    app = FastAPI()
    app.include_router(router)
    install_openapi(app)
    return app.openapi()


def op(doc: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    found: dict[str, Any] = doc["paths"][path][method]
    return found


def test_operation_ids_are_the_endpoint_names_led_by_a_verb() -> None:
    doc = document()
    assert op(doc, "/pets/{pet_id}", "get")["operationId"] == "getPet"
    assert op(doc, "/pets/{pet_id}/adoption", "post")["operationId"] == "submitAdoption"
    assert op(doc, "/pets", "get")["operationId"] == "listPets"
    assert op(doc, "/feeds", "post")["operationId"] == "feedPets"
    route = SimpleNamespace(name="balance", methods={"GET"})
    assert operation_id(route) == "getBalance"


def test_an_operation_lists_the_codes_its_code_raises_under_their_status() -> None:
    doc = document()
    adoption = op(doc, "/pets/{pet_id}/adoption", "post")["responses"]
    assert adoption["409"]["x-problem-codes"] == ["pet_taken"]  # through a typed parameter
    assert adoption["404"]["x-problem-codes"] == ["not_found"]  # a path id, nothing known
    one = op(doc, "/pets/{pet_id}", "get")["responses"]
    assert one["404"]["x-problem-codes"] == ["pet_not_found"]
    assert {"unauthorized", "unknown_signing_key"} <= set(one["401"]["x-problem-codes"])
    assert one["403"]["x-problem-codes"] == ["forbidden"]
    assert "validation_failed" in one["422"]["x-problem-codes"]
    assert "database_unavailable" in one["503"]["x-problem-codes"]
    for status, answer in one.items():
        if status >= "400":
            assert answer["content"] == {
                "application/problem+json": {"schema": {"$ref": PROBLEM_REF}}
            }


def test_validation_errors_are_problems_not_fastapis_schema() -> None:
    doc = document()
    schemas = doc["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert {"type", "title", "status", "detail", "code"} <= set(schemas["Problem"]["required"])
    assert schemas["Problem"]["properties"]["errors"]["items"]["$ref"].endswith(
        "/ProblemFieldError"
    )
    feeds = op(doc, "/feeds", "post")["responses"]["422"]["x-problem-codes"]
    assert {"validation_failed", "json_invalid", "json_too_deep"} <= set(feeds)


def test_security_follows_the_dependency_that_authenticates() -> None:
    doc = document()
    assert op(doc, "/pets/{pet_id}", "get")["security"] == [{"bearerAuth": []}]
    assert op(doc, "/feeds", "post")["security"] == [{"petKey": []}]
    assert op(doc, "/pets", "get")["security"] == []  # public
    assert "401" not in op(doc, "/pets", "get")["responses"]
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["scheme"] == "bearer" and schemes["petKey"]["name"] == "X-Key"


def test_the_catalogue_has_every_code_once_per_status_and_renders_as_a_table() -> None:
    catalogue = problem_catalogue()
    keys = [(p.code, p.status) for p in catalogue]
    assert len(keys) == len(set(keys)) and keys == sorted(keys)
    assert ("validation_failed", 422) in keys and ("out_of_scope", 403) in keys
    assert "pet_taken" not in {p.code for p in catalogue}  # a test's own type
    table = problems_markdown(catalogue)
    assert (
        "| `out_of_scope` | 403 | 超出您的管理范围 | Outside your organisation scope | kit |"
        in (table)
    )
