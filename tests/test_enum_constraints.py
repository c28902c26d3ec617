"""Every enum the code knows is allowed by the migrations (issue #12: a training institution's
account was a 500 because the first migration's CHECK lacked the role).

1. Each CHECK constraint of every service's models is the one the migrated database holds, and
   the database holds no other: the model's expression is added to a scratch copy of its table
   so that PostgreSQL normalises both the same way, then the texts are compared.
2. Each value of the code's enums (roles, stages, statuses, lesson levels…) fits its column and
   appears in the CHECK constraints that guard that column, if any."""

from __future__ import annotations

import importlib
import re
from collections.abc import AsyncIterator, Iterable
from typing import Any, get_args

import pytest
import pytest_asyncio
from sqlalchemy import CheckConstraint, Column, MetaData, Table, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import conv

from yanxiu.kit.db import make_engine

SERVICES = ("enrollment", "learning", "credits", "lessons", "insights", "gateway")


def metadata_of(service: str) -> MetaData:
    importlib.import_module(f"{service}.main")  # every feature package's tables registered
    metadata: MetaData = importlib.import_module(f"{service}.models").metadata
    return metadata


@pytest_asyncio.fixture
async def conn(database_url: str) -> AsyncIterator[AsyncConnection]:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            yield connection
            await connection.rollback()  # the scratch tables go with it
    finally:
        await engine.dispose()


async def database_checks(conn: AsyncConnection, schema: str) -> dict[tuple[str, str], str]:
    rows = await conn.execute(
        text(
            "SELECT c.relname, con.conname, pg_get_constraintdef(con.oid) FROM pg_constraint con"
            " JOIN pg_class c ON c.oid = con.conrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE con.contype = 'c' AND n.nspname = :schema AND c.relkind = 'r'"
        ),
        {"schema": schema},
    )
    return {(table, name): definition for table, name, definition in rows.all()}


def constraint_name(table: Table, check: CheckConstraint) -> str:
    if isinstance(check.name, conv):  # the naming convention applied already
        return str(check.name)
    convention = str(table.metadata.naming_convention.get("ck", "%(constraint_name)s"))
    return convention % {"table_name": table.name, "constraint_name": check.name}


async def as_database_writes_it(conn: AsyncConnection, table: Table, check: CheckConstraint) -> str:
    """The model's CHECK as pg_get_constraintdef renders it, on a scratch copy of the table."""
    sql = str(
        check.sqltext.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    )
    await conn.execute(text("DROP TABLE IF EXISTS pg_temp.probe"))
    await conn.execute(text(f"CREATE TEMP TABLE probe (LIKE {table.schema}.{table.name})"))
    await conn.execute(text(f"ALTER TABLE pg_temp.probe ADD CONSTRAINT probe CHECK ({sql})"))
    definition = await conn.scalar(
        text(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conname = 'probe' AND conrelid = 'pg_temp.probe'::regclass"
        )
    )
    return str(definition)


@pytest.mark.parametrize("service", SERVICES)
async def test_the_models_check_constraints_are_the_migrated_ones(
    conn: AsyncConnection, service: str
) -> None:
    metadata = metadata_of(service)
    assert metadata.schema
    in_models: dict[tuple[str, str], str] = {}
    for table in metadata.sorted_tables:
        for check in table.constraints:
            if isinstance(check, CheckConstraint):
                key = (table.name, constraint_name(table, check))
                in_models[key] = await as_database_writes_it(conn, table, check)
    in_database = await database_checks(conn, metadata.schema)
    missing = sorted(set(in_models) - set(in_database))
    unmodelled = sorted(set(in_database) - set(in_models))
    differ = sorted(k for k in set(in_models) & set(in_database) if in_models[k] != in_database[k])
    assert not missing, f"{service}: CHECK constraints in the models without a migration: {missing}"
    assert not unmodelled, f"{service}: CHECK constraints only in the database: {unmodelled}"
    assert not differ, f"{service}: CHECK constraints that differ from the migrated ones:\n" + (
        "\n".join(f"{k}: model {in_models[k]} / database {in_database[k]}" for k in differ)
    )


def code_enums() -> list[tuple[Column[Any], Iterable[str]]]:
    """(column, the values the code writes into it)."""
    from credits.ledger.models import LedgerEntry
    from credits.ledger.service import SourceKind
    from credits.records.models import OfflineRecord, RecordHistory
    from credits.records.rules import STATUSES
    from enrollment.models import Project, Teacher, TeacherChange, Workshop
    from enrollment.teachers.schemas import TeacherStatus
    from gateway.models import Account
    from learning.abilities.models import (
        Certification,
        CertificationAssessment,
        CertificationStatus,
        ItemKind,
        Outcome,
        PlanRole,
    )
    from learning.attainment.models import ATTEMPT_STATUSES, CompletionAttempt
    from learning.catalog.models import Course
    from learning.catalog.schemas import Delivery, Kind, Scope
    from learning.models import Plan, PlanStatus
    from learning.rules.ruleset import RoleCode
    from lessons.allocation.models import Reviewer
    from lessons.models import Lesson
    from lessons.showcase.models import LessonAward
    from lessons.showcase.schemas import CityAward, Curriculum, Level, Track
    from yanxiu.contracts.enrollment import Stage
    from yanxiu.kit.auth import Role

    roles = [r.value for r in Role]
    stages = get_args(Stage)
    return [
        (Account.__table__.c.role, roles),
        (TeacherChange.__table__.c.changed_by_role, roles),
        (RecordHistory.__table__.c.actor_role, roles),
        *[
            (metadata_of(s).tables[f"{s}.audit_log"].c.actor_role, roles)
            for s in SERVICES
            if f"{s}.audit_log" in metadata_of(s).tables
        ],
        (Teacher.__table__.c.stage, stages),
        (Project.__table__.c.stage, stages),
        (Workshop.__table__.c.stage, stages),
        (Plan.__table__.c.stage, stages),
        (Plan.__table__.c.status, get_args(PlanStatus)),
        (Lesson.__table__.c.stage, stages),
        (Reviewer.__table__.c.stage, stages),
        (Teacher.__table__.c.status, get_args(TeacherStatus)),
        (Course.__table__.c.kind, get_args(Kind)),
        (CompletionAttempt.__table__.c.status, ATTEMPT_STATUSES),
        (Course.__table__.c.scope, get_args(Scope)),
        (Course.__table__.c.delivery, get_args(Delivery)),
        (PlanRole.__table__.c.role, get_args(RoleCode)),
        (Certification.__table__.c.item_kind, get_args(ItemKind)),
        (Certification.__table__.c.status, get_args(CertificationStatus)),
        (CertificationAssessment.__table__.c.outcome, get_args(Outcome)),
        (OfflineRecord.__table__.c.status, STATUSES),
        (LedgerEntry.__table__.c.source_kind, get_args(SourceKind)),
        (Lesson.__table__.c.curriculum, get_args(Curriculum)),
        (Lesson.__table__.c.level, get_args(Level)),
        (Lesson.__table__.c.track, get_args(Track)),
        (Lesson.__table__.c.award, get_args(CityAward)),
        (LessonAward.__table__.c.award, [*get_args(CityAward), "provincial"]),
    ]


async def test_every_enum_value_of_the_code_fits_its_column_and_its_checks(
    conn: AsyncConnection,
) -> None:
    problems: list[str] = []
    checks: dict[str, dict[tuple[str, str], str]] = {}
    for column, values in code_enums():
        table = column.table
        assert isinstance(table, Table) and table.schema
        where = f"{table.schema}.{table.name}.{column.name}"
        length = await conn.scalar(
            text(
                "SELECT character_maximum_length FROM information_schema.columns"
                " WHERE table_schema = :s AND table_name = :t AND column_name = :c"
            ),
            {"s": table.schema, "t": table.name, "c": column.name},
        )
        problems += [f"{where}: {v!r} is longer than {length}" for v in values if len(v) > length]
        if table.schema not in checks:
            checks[table.schema] = await database_checks(conn, table.schema)
        guarding = [
            definition
            for (name, _), definition in checks[table.schema].items()
            if name == table.name and re.search(rf"\b{column.name}\b", definition)
        ]
        allowed = set(re.findall(r"'((?:[^']|'')*)'", " ".join(guarding)))
        if guarding:
            problems += [
                f"{where}: {v!r} not allowed by its CHECK" for v in values if v not in allowed
            ]
    assert not problems, "\n".join(problems)
