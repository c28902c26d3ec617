"""A typed HTTP client for what the gateway asks enrollment (the source of the org tree and the
teachers) before it opens an account. It forwards the caller's own `Authorization` header, so
enrollment applies its own scope: an org or teacher outside the caller's reach is simply "not
found", the same answer as one that does not exist."""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, TypeVar
from urllib.parse import quote

import httpx
from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from gateway.runtime import Runtime
from yanxiu.kit.context import trace_id_var
from yanxiu.kit.errors import ServiceUnavailable

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
RETRY_AFTER_SECONDS = 5
DEPTH = {"province": 1, "city": 2, "county": 3, "school": 4}


class EnrollmentUnavailable(ServiceUnavailable):
    code = "enrollment_unavailable"
    title_zh = "信息采集服务暂不可用"
    title_en = "The enrollment service is unavailable"

    def __init__(self) -> None:
        super().__init__(
            "暂时无法核对机构和教师信息，请稍后重试",
            "Cannot check the org and teacher with enrollment now, please retry later",
            retry_after=RETRY_AFTER_SECONDS,
        )


class OrgRef(BaseModel):
    """What the gateway reads of enrollment's OrgRead (other fields are ignored)."""

    id: str
    parent_id: str | None
    level: str
    province_id: str
    city_id: str | None
    county_id: str | None

    @property
    def path(self) -> list[str]:
        """The org path enrollment stores for this org, province first (as enrollment's
        `orgs.service.org_path` builds it)."""
        chain = [self.province_id, self.city_id, self.county_id]
        depth = DEPTH.get(self.level, 0)
        return [*(p or "" for p in chain[: depth - 1]), self.id] if depth else []


class TeacherRef(BaseModel):
    """What the gateway reads of enrollment's TeacherRead: where the teacher is, and whether
    they still teach there. Personal fields are not read."""

    id: uuid.UUID
    status: str
    school_id: str
    county_id: str
    city_id: str


class EnrollmentClient:
    def __init__(
        self, http: httpx.AsyncClient, base_url: str, *, authorization: str, timeout: float
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.authorization = authorization
        self.timeout = timeout

    async def org(self, org_id: str) -> OrgRef | None:
        """The org as enrollment stores it, or None when it does not exist or the caller
        may not see it."""
        return await self._get(f"/orgs/{quote(org_id, safe='')}", OrgRef)

    async def teacher(self, teacher_id: uuid.UUID) -> TeacherRef | None:
        """The teacher's record, or None when unknown or outside the caller's scope."""
        return await self._get(f"/teachers/{teacher_id}", TeacherRef)

    async def _get(self, path: str, model: type[M]) -> M | None:
        headers = {"Authorization": self.authorization, "Accept": "application/json"}
        trace = trace_id_var.get()
        if trace:
            headers["X-Request-ID"] = trace
        try:
            answer = await self.http.get(
                f"{self.base_url}{path}", headers=headers, timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            log.warning("enrollment unreachable", extra={"path": path, "error": repr(exc)})
            raise EnrollmentUnavailable() from exc
        if answer.status_code == 404:
            return None
        if answer.status_code != 200:
            # A 401/403 means enrollment refused a token the gateway accepted (keys out of
            # step): a fault of the platform, not of the caller's request.
            log.warning(
                "enrollment refused a lookup", extra={"path": path, "status": answer.status_code}
            )
            raise EnrollmentUnavailable()
        try:
            return model.model_validate_json(answer.content)
        except ValidationError as exc:
            log.warning("enrollment answered an unexpected body", extra={"path": path})
            raise EnrollmentUnavailable() from exc


async def enrollment_client(request: Request, rt: Runtime) -> EnrollmentClient:
    return EnrollmentClient(
        rt.http,
        rt.settings.enrollment_url,
        authorization=request.headers.get("authorization", ""),
        timeout=rt.settings.enrollment_timeout_seconds,
    )


Enrollment = Annotated[EnrollmentClient, Depends(enrollment_client)]
