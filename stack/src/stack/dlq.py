"""`yanxiu dlq list | show | replay | drop`: the dead letters of each service (yanxiu.kit.dlq)
for the operator on call, against the database and broker the environment names
(DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS, KAFKA_TOPIC_PREFIX).

    yanxiu dlq list --service credits --type enrollment.teacher.registered.v1 --since 2026-12-01
    yanxiu dlq show credits 0:17
    yanxiu dlq replay credits 0:17 0:18          # or every waiting one a filter picks:
    yanxiu dlq replay credits --error "timeout" --yes
    yanxiu dlq drop credits 0:19 --reason "测试数据 test data"

`replay` and `drop` without letters act on every waiting one the filters pick, and ask for
`--yes` first (or say what they would do with `--dry-run`)."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import MetaData

from stack.orgs import default_operator
from stack.resync import parse_since
from yanxiu.kit.broker import make_producer
from yanxiu.kit.db import asyncpg_url, make_engine
from yanxiu.kit.dlq import DeadLetter, DeadLetters, Filter
from yanxiu.kit.settings import KitSettings
from yanxiu.kit.tables import dlq_dispositions_table

SERVICES_WITH_DLQ = ("enrollment", "learning", "credits", "lessons", "insights", "gateway")


def add_parser(sub: Any) -> None:
    dlq_p = sub.add_parser(
        "dlq", help="死信: list, show, replay or drop the messages consumers dead-lettered"
    )
    commands = dlq_p.add_subparsers(dest="dlq_command", required=True)

    def filters(p: argparse.ArgumentParser) -> None:
        p.add_argument("--type", action="append", help="only this event type (repeatable)")
        p.add_argument("--consumer", help="only what this consumer group parked")
        p.add_argument("--error", help="only errors containing this text (any case)")
        p.add_argument("--since", type=parse_since, help="parked at or after (ISO; Beijing)")
        p.add_argument("--until", type=parse_since, help="parked before (ISO; Beijing)")

    list_p = commands.add_parser("list", help="the waiting dead letters, newest first")
    list_p.add_argument(
        "--service", action="append", choices=SERVICES_WITH_DLQ, help="default: all"
    )
    filters(list_p)
    list_p.add_argument("--all", action="store_true", help="replayed and dropped ones too")
    list_p.add_argument("--json", action="store_true", help="one JSON object per line")
    show_p = commands.add_parser("show", help="one dead letter with its headers and message")
    show_p.add_argument("service", choices=SERVICES_WITH_DLQ)
    show_p.add_argument("letter", type=letter_ref, help="PARTITION:OFFSET")
    for name, what in (
        ("replay", "send back to the source topic with the original key"),
        ("drop", "settle without sending"),
    ):
        act_p = commands.add_parser(name, help=what)
        act_p.add_argument("service", choices=SERVICES_WITH_DLQ)
        act_p.add_argument("letters", nargs="*", type=letter_ref, help="PARTITION:OFFSET …")
        filters(act_p)
        act_p.add_argument("--yes", action="store_true", help="act on every letter picked")
        act_p.add_argument("--dry-run", action="store_true", help="only say what would be done")
        if name == "drop":
            act_p.add_argument("--reason", required=True, help="why (kept with the letter)")
        act_p.add_argument("--operator", help="who (default: operator:<login>)")


def letter_ref(text: str) -> tuple[int, int]:
    partition, sep, offset = text.partition(":")
    if not sep or not partition.isdigit() or not offset.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: write PARTITION:OFFSET, e.g. 0:17")
    return int(partition), int(offset)


@dataclass
class Outcome:
    text: str
    code: int = 0


def settings_from_env(service: str) -> KitSettings:
    return KitSettings(service_name=f"{service}-dlq-cli")


def letters_of(settings: KitSettings, service: str) -> DeadLetters:
    table = dlq_dispositions_table(MetaData(schema=service))
    return DeadLetters(settings=settings, service=service, table=table)


def where(args: argparse.Namespace, *, settled: bool = False) -> Filter:
    return Filter(
        types=frozenset(args.type or ()),
        consumer=args.consumer,
        error=args.error,
        since=args.since,
        until=args.until,
        settled=settled,
    )


async def run(args: argparse.Namespace, url: str) -> Outcome:
    engine = make_engine(asyncpg_url(url), pool_size=1)
    try:
        if args.dlq_command == "list":
            return await _list(args, engine)
        if args.dlq_command == "show":
            return await _show(args, engine)
        return await _act(args, engine)
    finally:
        await engine.dispose()


async def _list(args: argparse.Namespace, engine: Any) -> Outcome:
    lines: list[str] = []
    for service in args.service or SERVICES_WITH_DLQ:
        letters = letters_of(settings_from_env(service), service)
        async with engine.connect() as conn:
            found = await letters.read(conn, where(args, settled=args.all))
        for letter in found:
            lines.append(_line(service, letter, as_json=args.json))
    if not args.json:
        lines.append(f"{len(lines)} dead letter(s)")
    return Outcome("\n".join(lines))


async def _show(args: argparse.Namespace, engine: Any) -> Outcome:
    letters = letters_of(settings_from_env(args.service), args.service)
    async with engine.connect() as conn:
        letter = await letters.find(conn, *args.letter)
    if letter is None:
        return Outcome(f"{args.service}: no dead letter at {args.letter[0]}:{args.letter[1]}", 1)
    shown = {
        "service": args.service,
        **letter.summary(),
        "headers": {k: v.decode("utf-8", "replace") for k, v in letter.headers},
        "payload": letter.payload(),
    }
    return Outcome(json.dumps(shown, ensure_ascii=False, indent=2, default=_jsonable))


async def _act(args: argparse.Namespace, engine: Any) -> Outcome:
    settings = settings_from_env(args.service)
    letters = letters_of(settings, args.service)
    async with engine.connect() as conn:
        if args.letters:
            picked: list[DeadLetter] = []
            for partition, offset in args.letters:
                letter = await letters.find(conn, partition, offset)
                if letter is None:
                    return Outcome(f"{args.service}: no dead letter at {partition}:{offset}", 1)
                picked.append(letter)
        else:
            picked = await letters.read(conn, where(args))
    verb = "replay" if args.dlq_command == "replay" else "drop"
    listed = "\n".join(_line(args.service, x, as_json=False) for x in picked)
    if args.dry_run or (not args.letters and not args.yes):
        hint = "" if args.dry_run else "\n(add --yes to do it)"
        return Outcome(f"would {verb} {len(picked)} dead letter(s):\n{listed}{hint}".rstrip())
    actor = args.operator or default_operator()
    async with engine.begin() as conn:  # the dispositions commit once all were sent
        if verb == "replay":
            producer = make_producer(settings)
            await producer.start()
            try:
                done = await letters.replay(conn, picked, producer=producer, actor=actor)
            finally:
                await producer.stop()
        else:
            done = await letters.drop(conn, picked, actor=actor, reason=args.reason)
    past = "replayed" if verb == "replay" else "dropped"
    return Outcome(f"{past} {done} dead letter(s) of {args.service}")


def _line(service: str, letter: DeadLetter, *, as_json: bool) -> str:
    summary = {"service": service, **letter.summary()}
    if as_json:
        return json.dumps(summary, ensure_ascii=False, default=_jsonable)
    return (
        f"{service} {letter.partition}:{letter.offset} {letter.at:%Y-%m-%d %H:%M:%S}Z "
        f"{letter.status} {letter.event_type} [{letter.consumer}] {letter.error[:160]}"
    )


def _jsonable(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
