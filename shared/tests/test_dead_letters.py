"""死信处理: what the consumers parked is listed, filtered and shown; a replay sends it back to
its source topic with its original key and is handled once; a drop settles it with a reason;
only a province admin may do either; `yanxiu dlq` does the same from the command line."""

from __future__ import annotations

import argparse
import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.tests.kit_fixtures import Pinged, effects, kittest_client, runner_of, tables
from stack import dlq as dlq_cli
from yanxiu.kit.broker import ensure_topics, make_producer
from yanxiu.kit.consumer import ConsumerRunner, Subscriber
from yanxiu.kit.dlq import DeadLetters, Filter, count_dead_letters
from yanxiu.kit.settings import KitSettings
from yanxiu.testing import eventually, read_topic

PROVINCE = ["370000"]
DLQ = "kittest.dlq.v1"
broken: set[str] = set()  # subjects the handler refuses (until a fix "ships")


@pytest.fixture
def settings(settings_for: Callable[..., KitSettings]) -> KitSettings:
    return settings_for(KitSettings, service_name="kittest")


@pytest_asyncio.fixture
async def producer(settings: KitSettings) -> AsyncIterator[AIOKafkaProducer]:
    await ensure_topics(settings, [settings.topic(Pinged.TOPIC), settings.topic(DLQ)], partitions=1)
    p = make_producer(settings)
    await p.start()
    yield p
    await p.stop()


@pytest_asyncio.fixture
async def runner(
    engine: AsyncEngine, settings: KitSettings, producer: AIOKafkaProducer
) -> AsyncIterator[ConsumerRunner]:
    sub = Subscriber(group=f"kittest.{uuid.uuid4().hex[:6]}", topics=[Pinged.TOPIC])

    @sub.handler
    async def on_pinged(session: AsyncSession, event: Pinged) -> None:
        if event.subject in broken:
            raise ValueError(f"no rule accepts {event.subject}")
        stmt = insert(effects).values(key=event.subject, count=1)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[effects.c.key], set_={"count": effects.c.count + 1}
            )
        )

    r = runner_of(sub, engine, settings, producer, max_attempts=2, base_backoff=0.01)
    task = asyncio.create_task(r.run())
    yield r
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def park(settings: KitSettings, producer: AIOKafkaProducer, broker: str, n: int) -> list[str]:
    """`n` events the handler refuses, parked by the runner; their subjects."""
    subjects = [f"dl-{uuid.uuid4().hex[:6]}" for _ in range(n)]
    broken.update(subjects)
    for i, subject in enumerate(subjects):
        env = Pinged(subject=subject, seq=i).envelope(
            producer="kittest", trace_id=uuid.uuid4().hex, occurred_at=datetime.now(UTC)
        )
        await producer.send_and_wait(
            settings.topic(Pinged.TOPIC),
            env.model_dump_json().encode(),
            key=subject.encode(),
            headers=[("type", Pinged.TYPE.encode())],
        )
    await read_topic(broker, settings.topic(DLQ), expect=n, timeout=30)
    return subjects


def letters(settings: KitSettings) -> DeadLetters:
    return DeadLetters(settings=settings, service="kittest", table=tables["dlq_dispositions"])


async def effect(engine: AsyncEngine, key: str) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(effects.c.count).where(effects.c.key == key)) or 0)


async def test_parked_messages_are_listed_filtered_and_shown_with_their_headers(
    engine: AsyncEngine,
    settings: KitSettings,
    producer: AIOKafkaProducer,
    broker: str,
    runner: ConsumerRunner,
    settings_for: Callable[..., KitSettings],
    token_for: Callable[..., str],
) -> None:
    subjects = await park(settings, producer, broker, 3)
    async with engine.connect() as conn:
        assert len(await letters(settings).read(conn, Filter())) == 3
        assert await letters(settings).read(conn, Filter(types=frozenset({"other.type"}))) == []
        picked = await letters(settings).read(conn, Filter(error=subjects[1].upper()))
    assert [x.key for x in picked] == [subjects[1].encode()]

    auth = {"Authorization": f"Bearer {token_for('province_admin', PROVINCE)}"}
    async with kittest_client(settings_for, kafka_topic_prefix=settings.kafka_topic_prefix) as http:
        page = (await http.get("/dlq", params={"limit": 2}, headers=auth)).json()
        assert len(page["items"]) == 2 and page["next_cursor"]
        rest = await http.get("/dlq", params={"cursor": page["next_cursor"]}, headers=auth)
        assert len(rest.json()["items"]) == 1 and rest.json()["next_cursor"] is None
        first = page["items"][0]
        assert first["event_type"] == Pinged.TYPE and first["status"] == "waiting"
        assert first["consumer"] == runner.subscriber.group and "no rule accepts" in first["error"]
        one = await http.get(f"/dlq/{first['partition']}/{first['offset']}", headers=auth)
        assert one.json()["payload"]["data"]["subject"] == first["key"]
        assert one.json()["headers"]["source_topic"] == settings.topic(Pinged.TOPIC)
        missing = await http.get("/dlq/0/999999", headers=auth)
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"


async def test_a_replayed_letter_goes_back_with_its_key_and_is_handled_once(
    engine: AsyncEngine,
    settings: KitSettings,
    producer: AIOKafkaProducer,
    broker: str,
    runner: ConsumerRunner,
    settings_for: Callable[..., KitSettings],
    token_for: Callable[..., str],
) -> None:
    [subject] = await park(settings, producer, broker, 1)
    broken.discard(subject)  # the fix has shipped
    auth = {"Authorization": f"Bearer {token_for('province_admin', PROVINCE)}"}
    async with kittest_client(settings_for, kafka_topic_prefix=settings.kafka_topic_prefix) as http:
        [letter] = (await http.get("/dlq", headers=auth)).json()["items"]
        ref = {"partition": letter["partition"], "offset": letter["offset"]}
        answer = await http.post("/dlq/replay", json={"items": [ref]}, headers=auth)
        assert answer.status_code == 200 and answer.json() == {"done": 1, "missing": []}
        await eventually(lambda: effect(engine, subject), timeout=30)
        # Replayed again (an operator's second try): the inbox drops the copy.
        assert (await http.post("/dlq/replay", json={"items": [ref]}, headers=auth)).json()[
            "done"
        ] == 1
        waiting = (await http.get("/dlq", headers=auth)).json()["items"]
        every = (await http.get("/dlq", params={"status": "all"}, headers=auth)).json()["items"]
        audit = (await http.get("/audit", params={"action": "dlq.replay"}, headers=auth)).json()
    assert waiting == [] and every[0]["status"] == "replayed"
    assert len(audit["items"]) == 2
    await asyncio.sleep(1.0)
    assert await effect(engine, subject) == 1
    source = await read_topic(broker, settings.topic(Pinged.TOPIC), expect=3)
    replayed = [r for r in source if dict(r.headers).get("replayed_from")]
    assert len(replayed) == 2 and {r.key for r in replayed} == {subject.encode()}
    assert "error" not in dict(replayed[0].headers)


async def test_a_dropped_letter_is_settled_with_its_reason_and_no_longer_counted(
    engine: AsyncEngine,
    settings: KitSettings,
    producer: AIOKafkaProducer,
    broker: str,
    runner: ConsumerRunner,
    settings_for: Callable[..., KitSettings],
    token_for: Callable[..., str],
) -> None:
    await park(settings, producer, broker, 2)
    depth = asyncio.create_task(count_dead_letters(letters(settings), engine, 0.05))
    try:
        await eventually(lambda: _gauge(2.0), timeout=10)
        auth = {"Authorization": f"Bearer {token_for('province_admin', PROVINCE)}"}
        prefix = settings.kafka_topic_prefix
        async with kittest_client(settings_for, kafka_topic_prefix=prefix) as http:
            [newest, _] = (await http.get("/dlq", headers=auth)).json()["items"]
            ref = {"partition": newest["partition"], "offset": newest["offset"]}
            refused = await http.post("/dlq/drop", json={"items": [ref]}, headers=auth)
            assert refused.status_code == 422  # a drop says why
            body = {"items": [ref], "reason": "测试数据 test data"}
            assert (await http.post("/dlq/drop", json=body, headers=auth)).json()["done"] == 1
            waiting = (await http.get("/dlq", headers=auth)).json()["items"]
            every = (await http.get("/dlq", params={"status": "all"}, headers=auth)).json()
        assert len(waiting) == 1
        dropped = next(x for x in every["items"] if x["status"] == "dropped")
        assert dropped["reason"] == "测试数据 test data"
        await eventually(lambda: _gauge(1.0), timeout=10)
    finally:
        depth.cancel()
        await asyncio.gather(depth, return_exceptions=True)


async def _gauge(expected: float) -> bool:
    return REGISTRY.get_sample_value("yanxiu_dlq_messages", {"service": "kittest"}) == expected


async def test_only_a_province_admin_handles_dead_letters(
    settings_for: Callable[..., KitSettings], token_for: Callable[..., str]
) -> None:
    ref = {"partition": 0, "offset": 0}
    async with kittest_client(settings_for) as http:
        for role, path in (("city_admin", ["370000", "370100"]), ("teacher", PROVINCE)):
            auth = {"Authorization": f"Bearer {token_for(role, path)}"}
            for method, url, body in (
                ("GET", "/dlq", None),
                ("GET", "/dlq/0/0", None),
                ("POST", "/dlq/replay", {"items": [ref]}),
                ("POST", "/dlq/drop", {"items": [ref], "reason": "x"}),
            ):
                answer = await http.request(method, url, json=body, headers=auth)
                assert answer.status_code == 403, (role, url)
                assert answer.json()["code"] == "dlq_not_allowed"


async def test_the_command_line_lists_replays_and_drops_what_a_filter_picks(
    engine: AsyncEngine,
    settings: KitSettings,
    producer: AIOKafkaProducer,
    broker: str,
    runner: ConsumerRunner,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    subjects = await park(settings, producer, broker, 2)
    broken.difference_update(subjects)
    monkeypatch.setattr(dlq_cli, "SERVICES_WITH_DLQ", ("kittest",))
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", broker)
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", settings.kafka_topic_prefix)
    parser = argparse.ArgumentParser()
    dlq_cli.add_parser(parser.add_subparsers(dest="command"))

    async def yanxiu(*argv: str) -> dlq_cli.Outcome:
        return await dlq_cli.run(parser.parse_args(["dlq", *argv]), database_url)

    listed = await yanxiu("list", "--type", Pinged.TYPE)
    assert listed.text.endswith("2 dead letter(s)") and subjects[0] in listed.text
    unsure = await yanxiu("replay", "kittest", "--error", subjects[0])
    assert "would replay 1" in unsure.text and "--yes" in unsure.text
    done = await yanxiu("replay", "kittest", "--error", subjects[0], "--yes")
    assert done.text == "replayed 1 dead letter(s) of kittest"
    await eventually(lambda: effect(engine, subjects[0]), timeout=30)
    assert await effect(engine, subjects[1]) == 0
    dropped = await yanxiu("drop", "kittest", "--error", subjects[1], "--yes", "--reason", "旧数据")
    assert dropped.text == "dropped 1 dead letter(s) of kittest"
    assert (await yanxiu("list")).text == "0 dead letter(s)"
    every = await yanxiu("list", "--all", "--json")
    assert every.text.count('"status": "replayed"') == 1
    assert every.text.count('"status": "dropped"') == 1
    nothing = await yanxiu("show", "kittest", "0:4242")
    assert nothing.code == 1
