"""权限矩阵: every operation of the merged OpenAPI, asked as every actor about a record of
teacher T1 (school A1), answers as `matrix.yaml` says; an operation without a row fails."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import httpx
import openpyxl

from tests.authz import matrix
from tests.authz.cases import LATE, Req, build
from tests.province.world import ACTORS, PROVIDERS_ACTORS, World

METHODS = frozenset({"get", "put", "post", "delete", "patch"})


def readable(answer: httpx.Response) -> str:
    """What a person would read in the answer: JSON as text, a spreadsheet's cells."""
    kind = answer.headers.get("content-type", "")
    if "json" in kind:
        return answer.text
    if "spreadsheet" in kind and answer.status_code == 200:
        book = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True)
        return "\n".join(
            str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row
        )
    return ""


async def send(w: World, req: Req, actor: str) -> httpx.Response:
    request = w.client.build_request(
        req.method,
        req.path,
        params=req.params,
        json=req.json,
        content=req.content,
        files=req.files,
        headers=req.headers,
    )
    if req.bare:
        pass
    elif actor in PROVIDERS_ACTORS:
        body = request.read()
        target = request.url.raw_path.decode("ascii")
        request.headers.update(w.providers[actor].headers(req.method, target, body))
    else:
        request.headers.update(w.auth(actor))
    return await w.client.send(request)


async def test_every_operation_answers_every_actor_as_the_table_says(world: World) -> None:
    doc = (await world.client.get("/openapi.json")).json()
    operations = {
        f"{method.upper()} {path}"
        for path, item in doc["paths"].items()
        for method in item
        if method in METHODS
    }
    rows = matrix.load()
    if os.environ.get("AUTHZ_DRAFT"):  # drafting the table: ask everything, compare nothing
        rows = {
            k: rows.get(k, matrix.Row(k, "bearer", frozenset(), "403", {}, "")) for k in operations
        }
    assert sorted(operations - rows.keys()) == [], "operations without a row in matrix.yaml"
    assert sorted(rows.keys() - operations) == [], "rows of matrix.yaml for no operation"

    order = sorted(operations - LATE) + sorted(operations & LATE)
    wrong: list[str] = []
    seen: dict[str, dict[str, int]] = {}
    for key in order:
        row = rows[key]
        # Refusals first: an allowed call may change what the next actor is asked about.
        for actor in sorted(ACTORS, key=lambda a: row.expected(a) == "ok"):
            answer = await send(world, await build(key, world, actor), actor)
            seen.setdefault(key, {})[actor] = answer.status_code
            expected = row.expected(actor)
            got = matrix.outcome(answer.status_code, expected)
            if got != expected:
                wrong.append(f"{key} as {actor}: expected {expected}, got {answer.status_code}")
            elif got != "ok" and not answer.headers.get("content-type", "").startswith(
                "application/problem+json"
            ):
                wrong.append(f"{key} as {actor}: refusal is not problem+json")
            text = readable(answer)
            if world.t1_id_number in text and actor not in row.reveals:
                wrong.append(f"{key} as {actor}: T1's 身份证号 in clear")
            if world.t1_name in text and not row.may_see_t1(actor):
                wrong.append(f"{key} as {actor}: T1's name in the answer")
    out = Path(os.environ.get("AUTHZ_OBSERVED", "/tmp/authz-observed.json"))
    out.write_text(json.dumps(seen, ensure_ascii=False, indent=1))  # noqa: ASYNC240
    assert not wrong, f"{len(wrong)} cells differ (observed: {out}):\n" + "\n".join(wrong)


def test_the_rendered_table_is_up_to_date() -> None:
    assert matrix.DOC.read_text(encoding="utf-8") == matrix.render(matrix.load()), (
        "docs/authorization.md is stale: run .venv/bin/python -m tests.authz.render"
    )
