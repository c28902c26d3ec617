"""Secrets and password hashes never reach a log: not from a write that fails (the statement's
values are hidden), not from a failed sign-in, not from a refresh token."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from yanxiu.kit.logging import JsonFormatter

PASSWORD = "研修-Passw0rd!"
NEW_PASSWORD = "新的-Secret-Passw0rd-42"
SCHOOL = ("370000", "370100", "370102", "370102-S001")

FAIL_WRITES = """
CREATE FUNCTION gateway.refuse_writes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'writes refused by the test'; END $$
"""


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], str]]:
    """Everything logged, as the production formatter writes it (tracebacks included). The
    gateway's lifespan replaces the root handlers, so the capture is attached again."""
    root = logging.getLogger()

    def text_of_logs() -> str:
        formatter = JsonFormatter("gateway")
        return "\n".join(formatter.format(record) for record in caplog.records)

    caplog.set_level(logging.DEBUG)
    yield text_of_logs
    if caplog.handler in root.handlers:
        root.removeHandler(caplog.handler)


def attach(caplog: pytest.LogCaptureFixture) -> None:
    root = logging.getLogger()
    if caplog.handler not in root.handlers:
        root.addHandler(caplog.handler)
    root.setLevel(logging.DEBUG)


async def refuse_account_writes(session_factory: Callable[[], AsyncSession]) -> None:
    async with session_factory() as session, session.begin():
        await session.execute(text(FAIL_WRITES))
        await session.execute(
            text(
                "CREATE TRIGGER refuse_writes BEFORE INSERT OR UPDATE ON gateway.accounts"
                " FOR EACH ROW EXECUTE FUNCTION gateway.refuse_writes()"
            )
        )


async def test_a_failing_account_write_logs_neither_the_hash_nor_the_password(
    gateway: Any,
    add_account: Callable[..., Any],
    token_for: Callable[..., str],
    session_factory: Callable[[], AsyncSession],
    caplog: pytest.LogCaptureFixture,
    logged: Callable[[], str],
) -> None:
    account = await add_account("reset.fails", org_path=SCHOOL)
    await refuse_account_writes(session_factory)
    admin = token_for("province_admin", ["370000"])
    async with gateway() as client:
        attach(caplog)
        answer = await client.patch(
            f"/api/v1/auth/accounts/{account.id}",
            json={"password": NEW_PASSWORD},
            headers={"Authorization": f"Bearer {admin}"},
        )
    assert answer.status_code == 500  # the write was attempted, and failed
    assert NEW_PASSWORD not in answer.text and "$argon2" not in answer.text
    logs = logged()
    assert "writes refused by the test" in logs  # the failure itself is logged, with its trace
    assert "$argon2" not in logs
    assert NEW_PASSWORD not in logs


async def test_failed_sign_ins_and_refreshes_log_no_secret(
    gateway: Any,
    add_account: Callable[..., Any],
    session_factory: Callable[[], AsyncSession],
    caplog: pytest.LogCaptureFixture,
    logged: Callable[[], str],
) -> None:
    await add_account("careful.user")
    async with gateway() as client:
        attach(caplog)
        wrong = await client.post(
            "/api/v1/auth/token", json={"username": "careful.user", "password": NEW_PASSWORD}
        )
        right = await client.post(
            "/api/v1/auth/token", json={"username": "careful.user", "password": PASSWORD}
        )
        refresh_token = right.json()["refresh_token"]
        await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})
        reused = await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})
        # Then recording a failure itself fails: the statement's values stay out of the log.
        await refuse_account_writes(session_factory)
        failing = await client.post(
            "/api/v1/auth/token", json={"username": "careful.user", "password": NEW_PASSWORD}
        )
    assert wrong.status_code == 401 and reused.status_code == 401
    assert failing.status_code == 500
    logs = logged()
    assert "writes refused by the test" in logs
    for secret in ("$argon2", PASSWORD, NEW_PASSWORD, refresh_token, right.json()["access_token"]):
        assert secret not in logs, secret
