"""A teacher who moves or leaves takes their account along: enrollment (served for real, its
relay on the real broker) publishes TeacherTransferred / TeacherDeparted, and the gateway's
consumer moves or disables the bound account and ends its sessions."""

from __future__ import annotations

import contextlib
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.idcard import check_digit
from gateway.accounts import service as accounts
from yanxiu.testing import eventually

PASSWORD = "研修-Passw0rd!"
LIXIA = ["370000", "370100", "370102"]
LIXIA_SCHOOL = [*LIXIA, "370102-S001"]
LIXIA_SCHOOL_2 = [*LIXIA, "370102-S002"]
RONGCHENG_SCHOOL = ["370000", "371000", "371082", "371082-S001"]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def account_state(session_factory: Callable[[], AsyncSession], account_id: uuid.UUID) -> Any:
    async with session_factory() as session:
        return (
            await session.execute(
                text(
                    "SELECT org_path, active, tokens_valid_after FROM gateway.accounts"
                    " WHERE id = :id"
                ),
                {"id": account_id},
            )
        ).one()


async def test_moving_or_departing_a_teacher_moves_or_closes_its_account_and_ends_sessions(
    gateway: Any,
    serve_enrollment: Callable[..., contextlib.AbstractAsyncContextManager[str]],
    add_account: Callable[..., Any],
    token_for: Callable[..., str],
    session_factory: Callable[[], AsyncSession],
    broker: str,
    topic_prefix: str,
) -> None:
    kafka = {
        "kafka_bootstrap_servers": broker,
        "kafka_topic_prefix": topic_prefix,
        "kafka_session_timeout_ms": 2000,
        "kafka_heartbeat_interval_ms": 300,
        "kafka_fetch_max_wait_ms": 10,
    }
    async with (
        serve_enrollment(run_relay=True) as enrollment,
        gateway(enrollment_url=enrollment, run_consumers=True, **kafka) as client,
        httpx.AsyncClient(base_url=enrollment) as http,
    ):
        school_admin = await add_account(role="school_admin", org_path=tuple(LIXIA_SCHOOL))
        caller = auth(token_for("school_admin", LIXIA_SCHOOL, user_id=str(school_admin.id)))
        id17 = f"3701021986{random.randint(1, 12):02d}{random.randint(1, 28):02d}"
        id17 += f"{random.randint(0, 999):03d}"
        teacher = await http.post(
            "/teachers",
            json={
                "name": "李老师",
                "id_number": id17 + check_digit(id17),
                "school_id": LIXIA_SCHOOL[-1],
                "stage": "primary",
                "subject": "数学",
                "is_rural": False,
            },
            headers=caller,
        )
        assert teacher.status_code == 201, teacher.text
        teacher_id = teacher.json()["id"]
        opened = await client.post(
            "/api/v1/auth/accounts",
            json={
                "username": "li.laoshi",
                "password": PASSWORD,
                "role": "teacher",
                "org_path": LIXIA_SCHOOL,
                "name": "李老师",
                "teacher_id": teacher_id,
            },
            headers=caller,
        )
        assert opened.status_code == 201, opened.text
        account_id = uuid.UUID(opened.json()["id"])

        # 调动 within the county: the account follows to the new school; old tokens end.
        before_move = datetime.now(UTC)
        moved = await http.post(
            f"/teachers/{teacher_id}/transfer",
            json={"to_school_id": LIXIA_SCHOOL_2[-1]},
            headers=auth(token_for("county_admin", LIXIA)),
        )
        assert moved.status_code == 200, moved.text

        async def at(path: list[str]) -> Any:
            state = await account_state(session_factory, account_id)
            return state if state.org_path == path else None

        state = await eventually(lambda: at(LIXIA_SCHOOL_2), timeout=30)
        assert state.active and state.tokens_valid_after >= before_move
        signed_in = await client.post(
            "/api/v1/auth/token", json={"username": "li.laoshi", "password": PASSWORD}
        )
        assert signed_in.status_code == 200 and signed_in.json()["org_path"] == LIXIA_SCHOOL_2

        # 离职: the account is disabled.
        left = await http.post(
            f"/teachers/{teacher_id}/depart",
            headers=auth(token_for("school_admin", LIXIA_SCHOOL_2)),
        )
        assert left.status_code == 200, left.text

        async def inactive() -> Any:
            state = await account_state(session_factory, account_id)
            return state if not state.active else None

        await eventually(inactive, timeout=30)

        # Taken in from the departed pool by a Rongcheng school: active again, over there.
        taken = await http.post(
            f"/teachers/{teacher_id}/transfer",
            json={"to_school_id": RONGCHENG_SCHOOL[-1]},
            headers=auth(token_for("school_admin", RONGCHENG_SCHOOL)),
        )
        assert taken.status_code == 200, taken.text
        state = await eventually(lambda: at(RONGCHENG_SCHOOL), timeout=30)
        assert state.active

    async with session_factory() as session:
        trail = (
            await session.execute(
                text(
                    "SELECT actor_id, action, target_org FROM gateway.audit_log"
                    " WHERE target_id = :id ORDER BY id"
                ),
                {"id": str(account_id)},
            )
        ).all()
    assert [(t.actor_id, t.action, t.target_org) for t in trail] == [
        (str(school_admin.id), "account.open", LIXIA_SCHOOL),
        (accounts.ENROLLMENT_EVENTS, "account.move", LIXIA_SCHOOL_2),
        (accounts.ENROLLMENT_EVENTS, "account.deactivate", LIXIA_SCHOOL_2),
        (accounts.ENROLLMENT_EVENTS, "account.move", RONGCHENG_SCHOOL),
    ]


async def test_a_transfer_of_a_teacher_without_an_account_changes_nothing(
    session_factory: Callable[[], AsyncSession], add_account: Callable[..., Any]
) -> None:
    other = await add_account(role="teacher", org_path=tuple(LIXIA_SCHOOL), teacher_id=uuid.uuid4())
    async with session_factory() as session:
        await accounts.follow_transfer(
            session,
            teacher_id=uuid.uuid4(),
            to_org=RONGCHENG_SCHOOL,
            reactivate=True,
            now=datetime.now(UTC),
        )
        await session.commit()
    state = await account_state(session_factory, other.id)
    assert state.org_path == LIXIA_SCHOOL and state.tokens_valid_after is None
