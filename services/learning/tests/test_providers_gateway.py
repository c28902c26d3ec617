"""Signed provider calls through the real gateway (/api/v1/learning/…): the proxy keeps the raw
body, the headers and the path as sent, so a provider signs what it sends and nothing else."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import orjson

from gateway.config import GatewaySettings
from gateway.main import create_app as create_gateway
from learning.config import Settings
from learning.main import create_app
from services.learning.tests.test_providers_support import HOME_PAGE, XAPI, World
from yanxiu.kit.pii import generate_key
from yanxiu.testing import app_client, served

PREFIX = "/api/v1/learning"


async def test_signed_completions_and_xapi_reads_pass_through_the_gateway(
    settings_for: Callable[..., Any],
    token_for: Callable[..., str],
    database_url: str,
    keypair: tuple[str, str],
) -> None:
    learning = create_app(
        settings_for(Settings, provider_secret_key=generate_key(), xapi_account_home_page=HOME_PAGE)
    )
    async with served(learning) as learning_url:
        gateway_settings = GatewaySettings.model_validate(
            {
                "database_url": database_url,
                "jwt_private_key": keypair[0],
                "log_json": False,
                "db_pool_size": 2,
                "rate_limit_enabled": False,
                "learning_url": learning_url,
            }
        )
        async with app_client(create_gateway(gateway_settings)) as gw:
            w = World(learning, gw, token_for)
            created = await gw.post(
                f"{PREFIX}/providers", json={"code": "zhixue", "name": "智学"}, headers=w.admin
            )
            assert created.status_code == 201, created.text
            w.provider_id = created.json()["id"]
            key = await gw.post(f"{PREFIX}/providers/{w.provider_id}/keys", headers=w.admin)
            w.key_id, w.secret = key.json()["key_id"], key.json()["secret"]
            await w.register(w.teacher_id)

            own = {"title": "信息技术应用能力提升", "category": "general_elective", "hours": "3"}
            body = orjson.dumps(w.completion("evt 1/网关", course=own))
            path = f"{PREFIX}/providers/{w.provider_id}/completions"
            headers = {"Content-Type": "application/json", **w.sign(body)}
            r = await gw.post(path, content=body, headers=headers)
            assert r.status_code == 201, r.text
            assert r.json()["status"] == "recorded"

            statement_id = uuid.uuid4()
            statement = {
                "actor": {"account": {"homePage": HOME_PAGE, "name": str(w.teacher_id)}},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                "object": {"id": "https://zhixue.example/activities/intro"},
            }
            put_path = f"{PREFIX}/xapi/statements?statementId={statement_id}"
            put_body = orjson.dumps(statement)
            put = await gw.put(
                put_path,
                content=put_body,
                headers={"Content-Type": "application/json", **XAPI, **w.sign(put_body)},
            )
            assert put.status_code == 204, put.text
            assert put.headers["X-Experience-API-Version"] == "1.0.3"

            # A read signs its target as sent to the gateway (prefix and all).
            got = await gw.get(put_path, headers={**XAPI, **w.sign(put_path.encode())})
            assert got.status_code == 200, got.text
            assert got.json()["id"] == str(statement_id)
            listed = await gw.get(
                f"{PREFIX}/xapi/statements?limit=1",
                headers={**XAPI, **w.sign(f"{PREFIX}/xapi/statements?limit=1".encode())},
            )
            assert listed.status_code == 200, listed.text
            assert [s["id"] for s in listed.json()["statements"]] == [str(statement_id)]
