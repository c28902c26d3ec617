"""Statements of a write on the driver (kit.writes): they run on the session's own connection
inside its transaction — begun for them if the session has sent nothing yet — so they commit
with it, roll back with it (savepoints too), see what it has flushed, and count as statements
of the request; the outbox's rows go this way and leave with the commit only."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from sqlalchemy import Column, MetaData, Table, Uuid, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.tests.kit_fixtures import Effect, Pinged, effects, tables
from yanxiu.kit import reads, writes
from yanxiu.kit.audit import AuditTrail
from yanxiu.kit.db import make_session_factory, plain_url, statements_var
from yanxiu.kit.faults import Fault, classify
from yanxiu.kit.outbox import Outbox
from yanxiu.kit.writes import SessionReads

OUTBOX_TABLE = tables["outbox"]
INSERT = "INSERT INTO kittest.effects (key, count) VALUES ($1, $2)"


class Boom(Exception):
    pass


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_session_factory(engine)


async def keys(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as s:
        return list((await s.scalars(select(effects.c.key).order_by(effects.c.key))).all())


async def test_a_statement_on_the_driver_commits_with_the_session(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        await s.execute(effects.insert().values(key="by-session", count=1))
        await writes.execute(s, INSERT, "on-driver", 2)
    assert await keys(sessions) == ["by-session", "on-driver"]


async def test_the_first_statement_of_a_transaction_on_the_driver_rolls_back_with_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # nothing sent through the session yet: the driver statement must not run in autocommit
    with pytest.raises(Boom):
        async with sessions() as s, s.begin():
            await writes.execute(s, INSERT, "first", 1)
            raise Boom
    assert await keys(sessions) == []


async def test_a_rolled_back_savepoint_takes_its_driver_statements_with_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        await writes.execute(s, INSERT, "kept", 1)
        with pytest.raises(Boom):
            async with s.begin_nested():
                await writes.execute(s, INSERT, "undone", 1)
                raise Boom
    assert await keys(sessions) == ["kept"]


async def test_the_driver_sees_what_the_session_flushed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        await s.execute(effects.insert().values(key="flushed", count=5))
        got = await writes.fetchval(s, "SELECT count FROM kittest.effects WHERE key = 'flushed'")
        assert got == 5


async def test_each_driver_statement_counts_as_one_of_the_request(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    counter = [0]
    token = statements_var.set(counter)
    try:
        async with sessions() as s, s.begin():
            await writes.execute(s, INSERT, "a", 1)
            await writes.execute(s, INSERT, "b", 1)
    finally:
        statements_var.reset(token)
    assert counter[0] == 2


async def test_outbox_rows_leave_with_the_commit_only_and_in_event_order(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    outbox = Outbox(OUTBOX_TABLE, producer="kittest")
    with pytest.raises(Boom):
        async with sessions() as s, s.begin():
            await outbox.add(s, Pinged(subject="lost", seq=0))
            raise Boom
    async with sessions() as s, s.begin():
        sent = await outbox.add(s, *(Pinged(subject=f"s{i}", seq=i) for i in range(3)))
    async with sessions() as s:
        rows = (
            await s.execute(
                select(OUTBOX_TABLE.c.event_id, OUTBOX_TABLE.c.key).order_by(OUTBOX_TABLE.c.id)
            )
        ).all()
        assert await s.scalar(select(func.count()).select_from(OUTBOX_TABLE)) == 3
    assert [r.event_id for r in rows] == [e.id for e in sent]


async def test_a_writes_reads_see_its_own_rows_and_come_back_detached(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        await s.execute(effects.insert().values(key="mine", count=3))
        db = SessionReads(s)
        found = await db.get(Effect, "mine")
        assert found is not None and found.times == 3
        assert found not in s  # a value to check, not an instance the session tracks
        listed = await reads.rows(db, Effect, select(Effect).order_by(Effect.key))
        assert [e.key for e in listed] == ["mine"]
        assert await db.scalar(select(func.count()).select_from(effects)) == 1
    # committed with the session: nothing of the reads was written, the row was
    assert await keys(sessions) == ["mine"]


async def test_a_writes_reads_count_as_statements_of_the_request(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    counter = [0]
    token = statements_var.set(counter)
    try:
        async with sessions() as s, s.begin():
            await SessionReads(s).get(Effect, "none")
    finally:
        statements_var.reset(token)
    assert counter[0] == 1


async def test_a_new_instance_added_on_the_driver_is_a_loaded_row_of_the_session(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        effect = Effect(key="added", times=2)
        await writes.add(s, effect)
        assert effect in s and effect not in s.new  # tracked, already written
        effect.times = 5  # a later change is an UPDATE of the flush
        await s.flush()
    async with sessions() as s:
        assert (await s.get(Effect, "added")).times == 5  # type: ignore[union-attr]


async def test_a_row_added_on_the_driver_rolls_back_with_the_session(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(Boom):
        async with sessions() as s, s.begin():
            await writes.add(s, Effect(key="undone", times=1))
            raise Boom
    assert await keys(sessions) == []


async def test_a_row_the_database_refuses_on_the_driver_is_an_integrity_error_as_from_a_flush(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        await writes.add(s, Effect(key="twin", times=1))
    with pytest.raises(IntegrityError) as refused:
        async with sessions() as s, s.begin():
            await writes.add(s, Effect(key="twin", times=2))
    assert isinstance(refused.value.orig, asyncpg.UniqueViolationError)


async def test_a_core_statement_on_the_driver_returns_its_rows_and_commits_with_the_session(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        claim = insert(effects).values(key="claimed", count=1).on_conflict_do_nothing()
        assert [r["key"] for r in await writes.run(s, claim.returning(effects.c.key))] == [
            "claimed"
        ]
        assert await writes.run(s, claim.returning(effects.c.key)) == []  # claimed already
        await writes.run(s, update(effects).where(effects.c.key == "claimed").values(count=7))
    async with sessions() as s:
        assert (await s.get(Effect, "claimed")).times == 7  # type: ignore[union-attr]


async def test_a_core_statement_that_leaves_a_python_default_unset_is_refused(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    stamped = Table("stamped", MetaData(), Column("id", Uuid, primary_key=True, default=uuid.uuid4))
    async with sessions() as s:
        with pytest.raises(TypeError, match="Python-side default"):
            await writes.run(s, insert(stamped).values())


async def test_a_core_statement_the_database_refuses_is_an_integrity_error(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(IntegrityError):
        async with sessions() as s, s.begin():
            await writes.run(s, insert(effects).values(key="twin", count=1))
            await writes.run(s, insert(effects).values(key="twin", count=2))
    assert await keys(sessions) == []


async def test_an_audit_entry_is_written_on_the_driver_with_what_the_database_fills_in(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    trail = AuditTrail(tables["audit_log"])
    counter = [0]
    token = statements_var.set(counter)
    try:
        async with sessions() as s, s.begin():
            await trail.record(
                s,
                actor=None,
                actor_id="importer",
                action="effect.create",
                target_type="effect",
                target_id="e1",
                after={"id_number": "110101199003077777", "n": 1},
            )
    finally:
        statements_var.reset(token)
    assert counter[0] == 1  # one INSERT … RETURNING (BEGIN and COMMIT are not statements)
    audit_log = tables["audit_log"]
    async with sessions() as s:
        row = (await s.execute(select(audit_log))).one()
    assert row.id is not None and row.at is not None  # identity and server default
    assert row.actor_id == "importer" and row.actor_role == "system" and row.actor_org == []
    assert row.after == {"id_number": "110101********7777", "n": 1}  # masked, JSON kept


async def test_an_audit_entry_flushes_what_the_session_holds_first(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    trail = AuditTrail(tables["audit_log"])
    async with sessions() as s, s.begin():
        s.add(Effect(key="pending", times=1))
        await trail.record(s, actor=None, action="effect.create", target_type="effect")
        assert not s.new
    assert await keys(sessions) == ["pending"]


async def _kill_backend_of(s: AsyncSession, database_url: str) -> None:
    raw = await (await s.connection()).get_raw_connection()
    pid = raw.dbapi_connection.driver_connection.get_server_pid()  # type: ignore[union-attr]
    killer = await asyncpg.connect(plain_url(database_url))
    try:
        await killer.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await killer.close()


@pytest.mark.parametrize("sent_before", [False, True])
async def test_a_connection_lost_under_a_write_is_an_outage_and_never_handed_out_again(
    sessions: async_sessionmaker[AsyncSession], database_url: str, sent_before: bool
) -> None:
    # the database restarted under the write: before its first statement, or after one
    with pytest.raises(Exception) as lost:
        async with sessions() as s, s.begin():
            if sent_before:
                await writes.execute(s, INSERT, "before", 1)
            await _kill_backend_of(s, database_url)
            await writes.execute(s, INSERT, "lost", 1)
    # the kit answers it as an outage (503), not as the work's own failure (500)
    assert classify(lost.value) is Fault.UNAVAILABLE, repr(lost.value)
    # and the pool gives the next writes live connections, however many it holds
    for n in range(3):
        async with sessions() as s, s.begin():
            await writes.execute(s, INSERT, f"after-{n}", 1)
    assert await keys(sessions) == ["after-0", "after-1", "after-2"]
