"""Shared test world of providers and xAPI (no tests here): the learning app on this test's
database with a provider registered through the API, a live key, a project with a registered
teacher and a catalogue course; helpers to sign requests the way a provider does."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import orjson
import pytest_asyncio
from sqlalchemy import text

from learning.catalog.models import Course
from learning.config import Settings
from learning.main import create_app
from learning.models import Plan
from learning.providers.signing import sign_headers
from learning.rules import repository as rules_repo
from yanxiu.kit.pii import generate_key
from yanxiu.testing import app_client

PROVINCE = ["370000"]
LIXIA = ["370000", "370100", "370102", "370102-S001"]
OTHER_PROVINCE = ["320000", "320100", "320102", "320102-S001"]
HOME_PAGE = "https://yanxiu.example"
XAPI = {"X-Experience-API-Version": "1.0.3"}


class World:
    def __init__(self, app: Any, client: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
        self.app = app
        self.client = client
        self.token_for = token_for
        self.admin = {"Authorization": f"Bearer {token_for('province_admin', PROVINCE)}"}
        self.project_id = uuid.uuid4()
        self.teacher_id = uuid.uuid4()
        self.course_id = uuid.uuid4()
        self.course_code = f"SD-ETH-{self.course_id.hex[:6]}"
        self.provider_id = ""
        self.key_id = ""
        self.secret = ""
        self._signed: set[tuple[int, bytes]] = set()

    @property
    def rt(self) -> Any:
        return self.app.state.runtime

    async def setup(self) -> None:
        created = await self.client.post(
            "/providers", json={"code": "zhixue", "name": "智学教育"}, headers=self.admin
        )
        assert created.status_code == 201, created.text
        self.provider_id = created.json()["id"]
        self.key_id, self.secret = await self.issue_key()
        await self.register(self.teacher_id)
        async with self.rt.session_factory() as session, session.begin():
            session.add(
                Course(
                    id=self.course_id,
                    code=self.course_code,
                    title="师德师风建设",
                    kind="required",
                    scope="general",
                    hours=2,
                    stages=["primary"],
                    subjects=[],
                    video_seconds=600,
                    pass_mark=60,
                    assessment=[],
                )
            )

    async def issue_key(self) -> tuple[str, str]:
        r = await self.client.post(f"/providers/{self.provider_id}/keys", headers=self.admin)
        assert r.status_code == 201, r.text
        return r.json()["key_id"], r.json()["secret"]

    async def register(
        self, teacher_id: uuid.UUID, org: list[str] = LIXIA, status: str = "active"
    ) -> None:
        async with self.rt.session_factory() as session, session.begin():
            session.add(
                Plan(
                    teacher_id=teacher_id,
                    project_id=self.project_id,
                    registration_id=uuid.uuid4(),
                    project_year=2026,
                    teacher_name="李老师",
                    stage="primary",
                    subject="语文",
                    province_id=org[0],
                    city_id=org[1],
                    county_id=org[2],
                    school_id=org[3],
                    status=status,
                )
            )

    def sign(
        self,
        body: bytes,
        *,
        key_id: str | None = None,
        secret: str | None = None,
        timestamp: int | None = None,
    ) -> dict[str, str]:
        if timestamp is None:
            # Each request signed afresh, as a provider's retry is: the same bytes again get
            # the next second (a few seconds ahead at most, inside the window).
            timestamp = int(time.time())
            while (timestamp, body) in self._signed:
                timestamp += 1
            self._signed.add((timestamp, body))
        return sign_headers(key_id or self.key_id, secret or self.secret, body, timestamp=timestamp)

    async def signed(
        self,
        method: str,
        path: str,
        payload: Any = None,
        *,
        headers: dict[str, str] | None = None,
        **sign_kw: Any,
    ) -> httpx.Response:
        body = b"" if payload is None else orjson.dumps(payload)
        # A read signs its request target; a write its body.
        signed = path.encode() if method in ("GET", "HEAD", "DELETE") else body
        all_headers = {"Content-Type": "application/json", **self.sign(signed, **sign_kw)}
        all_headers.update(headers or {})
        return await self.client.request(method, path, content=body, headers=all_headers)

    def completion(self, event_id: str = "evt-1", **over: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "event_id": event_id,
            "teacher_id": str(self.teacher_id),
            "project_id": str(self.project_id),
            "course": {"code": self.course_code},
            "completed_at": "2026-11-02T08:00:00+08:00",
        }
        body.update(over)
        return body

    async def post_completion(self, payload: Any, **kw: Any) -> httpx.Response:
        return await self.signed(
            "POST", f"/providers/{self.provider_id}/completions", payload, **kw
        )

    async def seed_rules(self, min_hours: str = "2") -> None:
        """A one-bucket rule set: `min_hours` of general courses meet the requirements."""
        ruleset = {
            "code": "provider-test",
            "name": "第三方测试规则",
            "buckets": [
                {
                    "code": "general",
                    "name": "通识",
                    "categories": ["general_required", "general_elective"],
                    "min_hours": min_hours,
                }
            ],
            "total_min_hours": min_hours,
        }
        async with self.rt.session_factory() as session, session.begin():
            await rules_repo.put(
                session,
                project_id=self.project_id,
                year=2026,
                code="provider-test",
                ruleset=ruleset,
                assigned_by="test",
            )

    async def outbox_types(self) -> list[str]:
        async with self.rt.engine.connect() as conn:
            rows = await conn.execute(text("SELECT event_type FROM learning.outbox ORDER BY id"))
            return [r[0] for r in rows]

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.rt.engine.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar()


@pytest_asyncio.fixture
async def world(
    settings_for: Callable[..., Any], token_for: Callable[..., str]
) -> AsyncIterator[World]:
    app = create_app(
        settings_for(
            Settings,
            provider_secret_key=generate_key(),
            xapi_account_home_page=HOME_PAGE,
            run_relay=False,
        )
    )
    async with app_client(app) as client:
        w = World(app, client, token_for)
        await w.setup()
        yield w
