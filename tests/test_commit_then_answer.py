"""Commit, then answer: a success leaves a service only after its transaction committed, so a
write acknowledged through the gateway is readable by the very next request, in every service;
and a commit that fails is an error answer, never a success."""

from __future__ import annotations

import asyncpg

from tests.province.world import World, lesson_body, new_id_number, record_body
from yanxiu.kit.db import plain_url

PAIRS = 40


async def test_every_acknowledged_write_is_read_back_at_once_through_the_gateway(
    world: World,
) -> None:
    for i in range(PAIRS):
        teacher = await world.new_teacher(name=f"即读教师{i}")
        read = await world.client.get(
            f"/api/v1/enrollment/teachers/{teacher}", headers=world.auth("school_admin")
        )
        assert read.status_code == 200, (i, read.text)

        record = await world.call(
            "institution_own", "POST", "/api/v1/credits/records", json=record_body(world)
        )
        read = await world.client.get(
            f"/api/v1/credits/records/{record['id']}", headers=world.auth("institution_own")
        )
        assert read.status_code == 200, (i, read.text)

        lesson = await world.call(
            "teacher_colleague", "POST", "/api/v1/lessons/lessons", json=lesson_body(f"即读{i}")
        )
        read = await world.client.get(
            f"/api/v1/lessons/lessons/{lesson['id']}", headers=world.auth("teacher_colleague")
        )
        assert read.status_code == 200, (i, read.text)


REFUSE_AT_COMMIT = """
CREATE FUNCTION enrollment.refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.name = '提交失败' THEN RAISE EXCEPTION 'refused at commit by the test'; END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON enrollment.teachers
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION enrollment.refuse_at_commit();
"""


async def test_a_write_whose_commit_fails_is_answered_as_an_error(
    world: World, database_url: str
) -> None:
    conn = await asyncpg.connect(plain_url(database_url))
    try:
        await conn.execute(REFUSE_AT_COMMIT)  # the check runs at COMMIT, after the handler
    finally:
        await conn.close()
    answer = await world.client.post(
        "/api/v1/enrollment/teachers",
        headers=world.auth("school_admin"),
        json={
            "name": "提交失败",
            "id_number": new_id_number(),
            "school_id": world.schools["A1"],
            "stage": "primary",
            "subject": "语文",
            "is_rural": False,
        },
    )
    assert answer.status_code >= 500, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    listed = await world.client.get(
        "/api/v1/enrollment/teachers",
        params={"school_id": world.schools["A1"], "name": "提交失败"},
        headers=world.auth("school_admin"),
    )
    assert listed.status_code == 200 and listed.json()["items"] == []
