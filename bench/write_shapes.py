"""What a write costs by its shape (issue #15): the same ordinary write — look up the record's
org, insert the record, its history row, its audit row and its outbox event, atomically —
sent five ways from one process, beside the floor's one INSERT, in the same run:

- `orm`: SQLAlchemy ORM in an `AsyncSession` (`session.get`, `add`, flush, commit): how the
  services write today;
- `core`: the same statements as Core `insert()`s through the session (no unit of work);
- `driver`: the same statements on asyncpg in one transaction (BEGIN, 5 statements, COMMIT);
- `one`: one statement on asyncpg, the inserts chained in a CTE from the org look-up
  (one round trip, atomic without BEGIN/COMMIT);
- `floor`: one INSERT in autocommit, as `../shared/floor/` does per request.

Each shape runs `--workers` concurrent writers for `--seconds`; the figures are writes a
second and this process's CPU per write (what a service would spend on it, HTTP aside). The
tables live in a scratch database, dropped afterwards.

    .venv/bin/python -m bench.write_shapes --seconds 5 --workers 32
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import uvloop
from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    insert,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import registry

from yanxiu.devstack.paths import data_dir
from yanxiu.devstack.postgres import create_database, drop_database, ensure_server
from yanxiu.kit.db import asyncpg_url, make_engine, make_session_factory, plain_url

DATABASE = "yanxiu_bench_write_shapes"
SCHEMA = "shapes"
ORG = "370102-B001"

metadata = MetaData(schema=SCHEMA)
orgs = Table(
    "orgs", metadata, Column("id", String(40), primary_key=True), Column("level", String(10))
)
records = Table(
    "records",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("org_id", String(40), ForeignKey(orgs.c.id), nullable=False),
    Column("name", String(60), nullable=False),
    Column("data", JSONB, nullable=False),
    Column("version", Integer, nullable=False),
)
changes = Table(
    "changes",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("record_id", Uuid, nullable=False),
    Column("action", String(20), nullable=False),
    Column("after", JSONB, nullable=False),
)
audit = Table(
    "audit",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("actor", String(60), nullable=False),
    Column("action", String(40), nullable=False),
    Column("target", String(60), nullable=False),
    Column("after", JSONB, nullable=False),
)
outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("topic", String(60), nullable=False),
    Column("key", String(60), nullable=False),
    Column("payload", JSONB, nullable=False),
)
floor = Table(
    "floor",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("teacher_id", BigInteger),
    Column("position", Integer),
)


class Org:
    id: str
    level: str


class Record:
    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


class Change(Record):
    pass


class Audit(Record):
    pass


_mapper = registry()
_mapper.map_imperatively(Org, orgs)
_mapper.map_imperatively(Record, records)
_mapper.map_imperatively(Change, changes)
_mapper.map_imperatively(Audit, audit)


def values() -> dict[str, Any]:
    rid = uuid.uuid4()
    data = {"name": "基准新教师", "stage": "primary", "subject": "语文", "is_rural": False}
    return {"id": rid, "name": "基准新教师", "data": data}


def event(v: dict[str, Any]) -> dict[str, Any]:
    return {"type": "enrollment.teacher.created", "id": str(v["id"]), **v["data"]}


ONE = f"""
WITH o AS (SELECT id FROM {SCHEMA}.orgs WHERE id = $1 AND level = 'school'),
r AS (INSERT INTO {SCHEMA}.records (id, org_id, name, data, version)
      SELECT $2, o.id, $3, $4, 1 FROM o RETURNING id),
c AS (INSERT INTO {SCHEMA}.changes (record_id, action, after) SELECT r.id, 'create', $4 FROM r),
a AS (INSERT INTO {SCHEMA}.audit (actor, action, target, after)
      SELECT 'bench', 'teacher.create', r.id::text, $4 FROM r),
x AS (INSERT INTO {SCHEMA}.outbox (topic, key, payload)
      SELECT 'enrollment', r.id::text, $5 FROM r)
SELECT id FROM r
"""


async def setup(url: str) -> None:
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            await conn.run_sync(metadata.create_all)
            await conn.execute(insert(orgs).values(id=ORG, level="school"))
    finally:
        await engine.dispose()


Write = Callable[[], Awaitable[None]]
SHAPES = ("orm", "core", "mixed", "driver", "one", "floor")


async def driver_connection(session: Any) -> Any:
    """The asyncpg connection under the session's transaction, that transaction begun."""
    raw = await (await session.connection()).get_raw_connection()
    adapted = raw.dbapi_connection
    if adapted._transaction is None:
        await adapted._start_transaction()
    return adapted.driver_connection


async def measure(name: str, write: Write, *, seconds: float, workers: int) -> dict[str, Any]:
    for _ in range(50):  # warm: statement caches, pools
        await write()
    done = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < stop:
            await write()
            done += 1

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"shape": name, "writes_per_s": done / wall, "cpu_us_per_write": 1e6 * cpu / done}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every shape's figures, and the rows written per table (each shape writes one of each
    per write: the counts agree, or a shape wrote less than the others)."""
    server, _ = await ensure_server(data_dir())
    url = asyncpg_url(await create_database(server, DATABASE, drop_first=True))
    try:
        await setup(url)
        engine = make_engine(url, pool_size=args.pool)
        factory = make_session_factory(engine)
        pool = await asyncpg.create_pool(
            plain_url(url), min_size=args.pool, max_size=args.pool, init=_json_codec
        )
        try:
            results = await _shapes(args, factory, pool)
            rows = {
                t.name: await pool.fetchval(f"SELECT count(*) FROM {SCHEMA}.{t.name}")
                for t in (records, changes, audit, outbox)
            }
            return {"results": results, "rows": rows}
        finally:
            await pool.close()
            await engine.dispose()
    finally:
        await drop_database(server, DATABASE)


def _json_text(value: Any) -> str:
    # as on the session's connections (SQLAlchemy's codec): JSON goes to the driver as text
    return value if isinstance(value, str) else json.dumps(value)


async def _json_codec(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "jsonb", encoder=_json_text, decoder=json.loads, schema="pg_catalog", format="text"
    )


async def _shapes(
    args: argparse.Namespace, factory: Any, pool: asyncpg.Pool
) -> list[dict[str, Any]]:
    async def orm() -> None:
        v = values()
        async with factory() as session, session.begin():
            org = await session.get(Org, ORG)
            assert org is not None and org.level == "school"
            session.add(Record(org_id=org.id, version=1, **v))
            await session.flush()
            session.add(Change(record_id=v["id"], action="create", after=v["data"]))
            session.add(
                Audit(actor="bench", action="teacher.create", target=str(v["id"]), after=v["data"])
            )
            await session.execute(
                insert(outbox).values(topic="enrollment", key=str(v["id"]), payload=event(v))
            )

    async def core() -> None:
        v = values()
        async with factory() as session, session.begin():
            level = await session.scalar(
                orgs.select().with_only_columns(orgs.c.level).where(orgs.c.id == ORG)
            )
            assert level == "school"
            await session.execute(insert(records).values(org_id=ORG, version=1, **v))
            await session.execute(
                insert(changes).values(record_id=v["id"], action="create", after=v["data"])
            )
            await session.execute(
                insert(audit).values(
                    actor="bench", action="teacher.create", target=str(v["id"]), after=v["data"]
                )
            )
            await session.execute(
                insert(outbox).values(topic="enrollment", key=str(v["id"]), payload=event(v))
            )

    async def driver() -> None:
        async with pool.acquire() as conn, conn.transaction():
            await statements(conn)

    async def statements(conn: Any) -> None:
        v = values()
        data = json.dumps(v["data"])
        level = await conn.fetchval(f"SELECT level FROM {SCHEMA}.orgs WHERE id = $1", ORG)
        assert level == "school"
        await conn.execute(
            f"INSERT INTO {SCHEMA}.records (id, org_id, name, data, version)"
            " VALUES ($1, $2, $3, $4, 1)",
            v["id"],
            ORG,
            v["name"],
            data,
        )
        await conn.execute(
            f"INSERT INTO {SCHEMA}.changes (record_id, action, after) VALUES ($1, 'create', $2)",
            v["id"],
            data,
        )
        await conn.execute(
            f"INSERT INTO {SCHEMA}.audit (actor, action, target, after)"
            " VALUES ('bench', 'teacher.create', $1, $2)",
            str(v["id"]),
            data,
        )
        await conn.execute(
            f"INSERT INTO {SCHEMA}.outbox (topic, key, payload) VALUES ('enrollment', $1, $2)",
            str(v["id"]),
            json.dumps(event(v)),
        )

    async def mixed() -> None:
        async with factory() as session, session.begin():
            conn = await driver_connection(session)
            await statements(conn)

    async def one() -> None:
        v = values()
        async with pool.acquire() as conn:
            made = await conn.fetchval(ONE, ORG, v["id"], v["name"], v["data"], event(v))
        assert made == v["id"]

    async def floor_write() -> None:
        async with pool.acquire() as conn:
            await conn.execute(
                f"INSERT INTO {SCHEMA}.floor (teacher_id, position) VALUES ($1, $2)", 1, 30
            )

    shapes: dict[str, Write] = {
        "orm": orm,
        "core": core,
        "mixed": mixed,
        "driver": driver,
        "one": one,
        "floor": floor_write,
    }
    out = []
    for round_ in range(1, args.rounds + 1):
        for name in args.shapes:
            figures = await measure(name, shapes[name], seconds=args.seconds, workers=args.workers)
            out.append({"round": round_, **figures})
    return out


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--pool", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--shapes",
        nargs="+",
        default=list(SHAPES),
        choices=list(SHAPES),
    )
    parser.add_argument("--json", action="store_true")
    return parser.parse_args(argv)


def main() -> None:
    args = arguments()
    report = uvloop.run(run(args))
    if args.json:
        print(json.dumps(report))
        return
    results = report["results"]
    floors = {r["round"]: r["writes_per_s"] for r in results if r["shape"] == "floor"}
    print(f"write shapes: {args.workers} writers, {args.seconds:.0f} s each, pool {args.pool}")
    for r in results:
        base = floors.get(r["round"])
        ratio = f"{r['writes_per_s'] / base:5.2f}× the floor of its round" if base else ""
        print(
            f"  {r['round']}: {r['shape']:<7} {r['writes_per_s']:8.0f} writes/s  "
            f"{r['cpu_us_per_write']:7.0f} µs CPU/write  {ratio}"
        )


if __name__ == "__main__":
    main()
