"""Small request bodies of the gateway's own auth routes, as JSON or as an OAuth2 form (what
Swagger's Authorize and OAuth2 clients send), parsed by hand so the gateway needs no multipart
parser. Whatever arrives, the answer is a model or a 4xx problem, never a 500."""

from __future__ import annotations

import json
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect

from gateway.errors import PayloadTooLarge, UnsupportedMediaType

M = TypeVar("M", bound=BaseModel)
MAX_FORM_BYTES = 16 * 1024


async def read_form(
    request: Request, model: type[M], *, max_bytes: int = MAX_FORM_BYTES, optional: bool = False
) -> M:
    """The body as `model`. With `optional`, an empty body is the model's defaults."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    is_json = media_type in ("", "application/json") or media_type.endswith("+json")
    raw = b""
    try:
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > max_bytes:
                if is_json and raw.lstrip()[:1] != b"{":
                    # Not an object (a wall of `[`, say): invalid whatever its length.
                    raise _invalid_json("Expected a JSON object")
                raise PayloadTooLarge()
    except ClientDisconnect as exc:  # gone, or cut off by the gateway's body limit
        raise PayloadTooLarge() from exc
    data: Any
    if optional and not raw.strip():
        data = {}
    elif media_type == "application/x-www-form-urlencoded":
        try:
            data = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            data = None
    elif is_json:
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            # RecursionError: thousands of nested brackets are not JSON this route reads.
            message = "Invalid JSON" if isinstance(exc, ValueError) else "JSON nested too deeply"
            raise _invalid_json(message) from None
    else:
        raise UnsupportedMediaType(
            "请以 JSON 或表单提交", "Send JSON or application/x-www-form-urlencoded"
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


def _invalid_json(message: str) -> RequestValidationError:
    return RequestValidationError([{"type": "json_invalid", "loc": ("body",), "msg": message}])
