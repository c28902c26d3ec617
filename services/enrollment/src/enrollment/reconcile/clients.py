"""The consumers' rosters over HTTP: learning, lessons, credits and insights asked on their
internal URLs with the admin's own `Authorization` header, so each service applies its own scope
to what it answers (as gateway.enrollment_client does the other way round)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from enrollment.reconcile.errors import RosterUnavailable
from enrollment.reconcile.streams import Consumers, Roster, Stream
from yanxiu.kit.context import trace_id_var
from yanxiu.kit.deps import runtime
from yanxiu.kit.pagination import encode_cursor
from yanxiu.kit.roster import Digest, Digests, RosterEntry, RosterPage

log = logging.getLogger(__name__)


class HttpRoster:
    """One consumer's roster of one project (credits: of every teacher) under the caller."""

    def __init__(
        self, http: httpx.AsyncClient, *, stream: Stream, path: str, authorization: str
    ) -> None:
        self.http = http
        self.stream = stream
        self.path = path
        self.authorization = authorization

    async def digests(self, *, prefix: int) -> list[Digest]:
        return (await self._get(f"{self.path}/digests", [("prefix", prefix)], Digests)).items

    async def page(
        self,
        *,
        id_from: uuid.UUID | None,
        id_to: uuid.UUID | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> list[RosterEntry]:
        params: list[tuple[str, str | int | float | bool | None]] = [("limit", limit)]
        if id_from is not None:
            params.append(("id_from", str(id_from)))
        if id_to is not None:
            params.append(("id_to", str(id_to)))
        if after is not None:
            # A roster's cursor is the last teacher id, in the kit's cursor encoding.
            params.append(("cursor", encode_cursor(str(after))))
        return (await self._get(self.path, params, RosterPage)).items

    async def _get(
        self, path: str, params: list[tuple[str, str | int | float | bool | None]], model: type[Any]
    ) -> Any:
        headers = {"Authorization": self.authorization, "Accept": "application/json"}
        trace = trace_id_var.get()
        if trace:
            headers["X-Request-ID"] = trace
        service = self.stream.service
        try:
            answer = await self.http.get(path, params=params, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("roster unreachable", extra={"service": service, "error": repr(exc)})
            raise RosterUnavailable(self.stream) from exc
        if answer.status_code != 200:
            # The caller passed enrollment's own check: a refusal there is a fault of the
            # platform (keys or roles out of step), not of the request.
            log.warning("roster refused", extra={"service": service, "status": answer.status_code})
            raise RosterUnavailable(self.stream)
        try:
            parsed: BaseModel = model.model_validate_json(answer.content)
        except ValidationError as exc:
            log.warning("roster answered an unexpected body", extra={"service": service})
            raise RosterUnavailable(self.stream) from exc
        return parsed


async def consumer_rosters(request: Request, project_id: uuid.UUID) -> AsyncIterator[Consumers]:
    """Per request: one HTTP client, and each stream's roster bound to the project."""
    settings = runtime(request).settings
    base = {
        "learning": getattr(settings, "learning_url", ""),
        "lessons": getattr(settings, "lessons_url", ""),
        "insights": getattr(settings, "insights_url", ""),
        "credits": getattr(settings, "credits_url", ""),
    }
    timeout = float(getattr(settings, "roster_timeout_seconds", 30.0))
    authorization = request.headers.get("authorization", "")
    async with httpx.AsyncClient(timeout=timeout) as http:

        def roster(stream: Stream) -> Roster:
            path = f"/projects/{project_id}/roster" if stream.per_project else "/roster"
            return HttpRoster(
                http,
                stream=stream,
                path=f"{base[stream.service].rstrip('/')}{path}",
                authorization=authorization,
            )

        yield roster


ConsumerRosters = Annotated[Consumers, Depends(consumer_rosters)]
