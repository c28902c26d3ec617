"""区划数据导入: a region's org tree file is checked line by line, imported once whatever the
repetitions, and never moves, renames or deletes a stored org."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from enrollment.models import Org
from enrollment.orgs.errors import OrgTreeConflict, OrgTreeInvalid
from enrollment.orgs.importer import shipped_tree
from enrollment.orgs.service import import_tree
from enrollment.orgs.tree import ImportReport, OrgTree, StoredOrg, parse_tree, plan
from yanxiu.kit.deps import runtime

JIANGSU: dict[str, Any] = {
    "source": "中华人民共和国县以上行政区划代码: 江苏省（节选）",
    "province": {"id": "320000", "name": "江苏省"},
    "cities": [
        {
            "id": "320100",
            "name": "南京市",
            "counties": [
                {"id": "320102", "name": "玄武区", "kind": "district"},
                {"id": "320104", "name": "秦淮区", "kind": "district"},
            ],
        }
    ],
}


def pretty(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=1)


async def run_import(client: httpx.AsyncClient, tree: OrgTree) -> ImportReport:
    """The import in one transaction, committed (as `yanxiu orgs import` does)."""
    rt = runtime(client)  # type: ignore[arg-type]
    async with rt.session_factory() as session, session.begin():
        return await import_tree(session, tree=tree, operator="operator:test")


async def org_count(client: httpx.AsyncClient, province_id: str) -> int:
    rt = runtime(client)  # type: ignore[arg-type]
    async with rt.session_factory() as session:
        n = await session.scalar(
            select(func.count()).select_from(Org).where(Org.province_id == province_id)
        )
    return int(n or 0)


async def test_a_new_region_is_imported_once_however_often_its_file_is_run(
    client: httpx.AsyncClient,
) -> None:
    tree = parse_tree(pretty(JIANGSU))
    first = await run_import(client, tree)
    assert first.created == {"province": 1, "city": 1, "county": 2} and first.unchanged == 0
    again = await run_import(client, tree)
    assert again.created == {"province": 0, "city": 0, "county": 0} and again.unchanged == 4
    assert await org_count(client, "320000") == 4
    rt = runtime(client)  # type: ignore[arg-type]
    async with rt.session_factory() as session:
        xuanwu = await session.get(Org, "320102")
        audit = rt.spec.table("audit_log")
        actions = (
            await session.execute(
                select(audit.c.actor_id, audit.c.target_id).where(
                    audit.c.action == "org.import_tree"
                )
            )
        ).all()
    assert xuanwu is not None
    assert (xuanwu.parent_id, xuanwu.level, xuanwu.province_id, xuanwu.city_id) == (
        "320100",
        "county",
        "320000",
        "320100",
    )
    assert actions == [("operator:test", "320000")] * 2


async def test_the_shipped_trees_are_already_loaded_by_the_migrations(
    client: httpx.AsyncClient,
) -> None:
    for name, province, divisions in (
        ("shandong", "370000", 1 + 16 + 136),
        ("guangdong", "440000", 1 + 21 + 122),
        ("anhui", "340000", 1 + 16 + 104),
    ):
        report = await run_import(client, shipped_tree(name))
        assert sum(report.created.values()) == 0 and report.unchanged == divisions
        assert report.province_id == province


async def test_a_file_adding_cities_to_a_stored_province_keeps_what_is_stored(
    client: httpx.AsyncClient,
) -> None:
    """A Guangdong file with one city and none of its counties deletes nothing."""
    partial = {
        "province": {"id": "440000", "name": "广东省"},
        "cities": [{"id": "441200", "name": "肇庆市", "counties": []}],
    }
    report = await run_import(client, parse_tree(pretty(partial)))
    assert sum(report.created.values()) == 0 and report.unchanged == 2
    assert await org_count(client, "440000") == 1 + 21 + 122


@pytest.mark.parametrize(
    ("change", "at", "says"),
    [
        pytest.param(
            lambda d: d["cities"][0]["counties"][0].update(name="端州新区"),
            '"441202"',
            "导入不会改名",
            id="rename",
        ),
        pytest.param(
            lambda d: d["cities"][0]["counties"][0].update(id="441299"),
            '"441299"',
            "同一上级下已有同名机构 441202",
            id="same-name-new-code",
        ),
    ],
)
async def test_an_import_never_moves_renames_or_shadows_a_stored_org(
    client: httpx.AsyncClient, change: Any, at: str, says: str
) -> None:
    doc: dict[str, Any] = {
        "province": {"id": "440000", "name": "广东省"},
        "cities": [
            {
                "id": "441200",
                "name": "肇庆市",
                "counties": [{"id": "441202", "name": "端州区", "kind": "district"}],
            },
            {"id": "449900", "name": "新设市", "counties": []},
        ],
    }
    change(doc)
    text = pretty(doc)
    line = next(n for n, t in enumerate(text.splitlines(), 1) if at in t)
    with pytest.raises(OrgTreeConflict) as refused:
        await run_import(client, parse_tree(text))
    errors = refused.value.extra["errors"]
    assert [e["line"] for e in errors] == [line]
    assert says in errors[0]["message_zh"]
    # Refused whole: the new city of the same file was not added either.
    rt = runtime(client)  # type: ignore[arg-type]
    async with rt.session_factory() as session:
        assert await session.get(Org, "449900") is None


def test_a_stored_org_the_file_places_elsewhere_is_a_conflict_not_a_move() -> None:
    """The code checks keep a valid file from placing a county under another city; a stored
    org placed differently (data from before, or another source) is still never moved."""
    tree = parse_tree(pretty(JIANGSU))
    stored = {"320104": StoredOrg(id="320104", parent_id="320200", level="county", name="秦淮区")}
    planned = plan(tree, stored, {})
    assert [d.id for d in planned.new] == ["320000", "320100", "320102"]
    assert len(planned.conflicts) == 1
    assert "导入不会移动" in planned.conflicts[0].message_zh
    assert (
        planned.conflicts[0].line == pretty(JIANGSU).splitlines().index('     "id": "320104",') + 1
    )


def test_a_malformed_file_is_refused_with_the_line_of_every_problem() -> None:
    text = """{
 "province": {"id": "320000", "name": "江苏省"},
 "cities": [
  {
   "id": "330100",
   "name": "南京市",
   "counties": [
    {"id": "320102", "name": "玄武区", "kind": "district"},
    {"id": "320102", "name": "秦淮区", "kind": "district"},
    {"id": "3201O5", "name": "建邺区", "kind": "district"},
    {"id": "320111", "name": "", "kind": "district"},
    {"id": "320113", "name": "栖霞区", "kind": "distric"},
    {"id": "320114", "name": "雨花台区", "kind": "district", "population": 1}
   ]
  },
  {"id": "320200", "counties": []}
 ]
}
"""
    with pytest.raises(OrgTreeInvalid) as refused:
        parse_tree(text)
    report = {(e["line"], e["path"]) for e in refused.value.extra["errors"]}
    assert (5, "$.cities[0].id") in report  # 33…: not a city of the province 32…
    text = text.replace('"330100"', '"320100"')
    with pytest.raises(OrgTreeInvalid) as refused:
        parse_tree(text)
    errors = refused.value.extra["errors"]
    assert [(e["line"], e["path"]) for e in errors] == [
        (9, "$.cities[0].counties[1].id"),  # 320102 twice
        (10, "$.cities[0].counties[2].id"),  # a letter O
        (11, "$.cities[0].counties[3].name"),  # empty
        (12, "$.cities[0].counties[4].kind"),
        (13, "$.cities[0].counties[5].population"),
        (16, "$.cities[1]"),
    ]
    assert errors[0]["message"].startswith("第9行")
    assert "第8行已有" in errors[0]["message_zh"] and errors[0]["message_en"]


def test_a_file_that_is_not_json_is_refused_at_its_line() -> None:
    with pytest.raises(OrgTreeInvalid) as refused:
        parse_tree('{\n "province": {"id": "320000", "name": "江苏省"},\n "cities": [,]\n}')
    assert [e["line"] for e in refused.value.extra["errors"]] == [3]
    assert refused.value.code == "org_tree_invalid"
