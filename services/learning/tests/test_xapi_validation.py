"""The statement validator (pure): what xAPI 1.0.3 requires an LRS to refuse is refused with a
400 naming the property, what it allows is kept — and no input at all makes it fail otherwise
(a fuzz of valid statements with parts replaced by every kind of JSON value)."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from learning.providers import xapi_filters as xf
from learning.providers import xapi_validation as xv
from learning.providers.errors import XapiBadQuery, XapiStatementInvalid

AGENT: dict[str, Any] = {"objectType": "Agent", "name": "李老师", "mbox": "mailto:li@school.cn"}
ACTIVITY: dict[str, Any] = {
    "objectType": "Activity",
    "id": "https://yanxiu.example/xapi/courses/SD-ETH-01",
    "definition": {
        "name": {"zh-CN": "师德师风建设", "en-US": "Teachers' ethics"},
        "type": "http://adlnet.gov/expapi/activities/course",
        "interactionType": "choice",
        "correctResponsesPattern": ["a"],
        "choices": [{"id": "a", "description": {"zh-CN": "甲"}}],
        "extensions": {"https://yanxiu.example/xapi/extensions/hours": 2, "http://e.cn/n": None},
    },
}
STATEMENT: dict[str, Any] = {
    "id": "4cee700f-6ac2-4882-a861-73e4f3582be9",
    "actor": AGENT,
    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"zh-CN": "完成"}},
    "object": ACTIVITY,
    "result": {
        "score": {"scaled": 0.95, "raw": 95, "min": 0, "max": 100},
        "success": True,
        "completion": True,
        "duration": "PT1H30M",
        "extensions": {},
    },
    "context": {
        "registration": "6a8f3b7e-2c1d-4e5f-9a0b-1c2d3e4f5a6b",
        "instructor": {"account": {"homePage": "https://yanxiu.example", "name": "t1"}},
        "contextActivities": {"parent": ACTIVITY, "grouping": [{"id": "http://e.cn/g"}]},
        "platform": "老师圈",
        "language": "zh-CN",
    },
    "timestamp": "2026-11-02T08:00:00.123+08:00",
    "version": "1.0.3",
}


def refused(statement: Any) -> str:
    with pytest.raises(XapiStatementInvalid) as caught:
        xv.statement(statement)
    return str(caught.value.extra["field"])


def with_(path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(STATEMENT)
    *parents, last = path.split(".")
    node = out
    for p in parents:
        node = node[p]
    node[last] = value
    return out


def without(path: str) -> dict[str, Any]:
    out = copy.deepcopy(STATEMENT)
    *parents, last = path.split(".")
    node = out
    for p in parents:
        node = node[p]
    del node[last]
    return out


def test_a_full_valid_statement_is_kept_as_it_is() -> None:
    assert xv.statement(copy.deepcopy(STATEMENT)) == STATEMENT


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("actor.mbox", "http://should.fail.com"),
        ("actor.mbox", "mailto:should.fail.com"),
        ("actor.objectType", "agent"),
        ("actor.name", None),
        ("id", "AA97B177-9383-4934-8543-0F91A7A028368"),
        ("id", "MA97B177-9383-4934-8543-0F91A7A02836"),
        ("verb.display", {"a12345": "attended"}),
        ("object.definition.interactionType", "Choice"),
        ("object.definition.interactionType", {"key": "value"}),
        ("object.definition.extensions", {"should fail": True}),
        ("result.duration", "PA1H0M0S"),
        ("result.score", {"scaled": 1.5}),
        ("result.score", {"raw": 101, "min": 0, "max": 100}),
        ("result.score", {"min": 10, "max": 5}),
        ("context.registration", "not-a-uuid"),
        ("context.contextActivities", {"Parent": [ACTIVITY]}),
        ("timestamp", "2008-09-15T15:53:00.601-00:00"),
        ("timestamp", "0001-01-01T00:00:00+14:00"),
        ("timestamp", "01/011/2015"),
        ("version", "2.0.0"),
        ("Actor", AGENT),
    ],
)
def test_what_xapi_refuses_is_refused_with_the_property_named(path: str, value: Any) -> None:
    field = refused(with_(path, value))
    assert field.startswith("statement.")


def test_an_agent_uses_exactly_one_identifier() -> None:
    assert refused(with_("actor", {"mbox": "mailto:a@b.cn", "openid": "http://o.cn/a"}))
    assert refused(with_("actor", {"name": "无标识"}))


def test_an_identified_group_has_one_identifier_and_an_anonymous_one_lists_its_members() -> None:
    assert refused(with_("actor", {"objectType": "Group", "name": "无成员"}))
    both = {"objectType": "Group", "mbox": "mailto:g@b.cn", "account": AGENT | {}}
    assert refused(with_("actor", both))
    team = {"objectType": "Group", "member": [AGENT]}
    assert xv.statement(with_("actor", team))


def test_a_substatement_has_no_id_and_no_substatement_inside() -> None:
    sub = {"objectType": "SubStatement", "actor": AGENT, "verb": STATEMENT["verb"]}
    base = without("context.platform")  # only with an Activity as object
    assert xv.statement(base | {"object": sub | {"object": ACTIVITY}})
    assert refused(base | {"object": sub | {"object": ACTIVITY, "id": STATEMENT["id"]}})
    assert refused(base | {"object": sub | {"object": sub | {"object": ACTIVITY}}})


def test_revision_and_platform_only_with_an_activity_as_object() -> None:
    ref = {"objectType": "StatementRef", "id": STATEMENT["id"]}
    assert refused(with_("object", ref))  # context.platform is set
    assert xv.statement(without("context.platform") | {"object": ref})


def test_an_authority_is_an_agent_or_an_anonymous_group_of_two() -> None:
    app = {"account": {"homePage": "https://app.example", "name": "app"}}
    assert xv.statement(with_("authority", {"objectType": "Group", "member": [app, AGENT]}))
    assert refused(with_("authority", {"objectType": "Group", "member": [app, AGENT, AGENT]}))
    assert refused(with_("authority", {"objectType": "Group", "mbox": "mailto:g@b.cn"}))


def test_timestamps_without_a_zone_are_utc_and_are_returned_as_instants() -> None:
    assert xv.timestamp("2015-01-01T00:00:00", "t").isoformat() == "2015-01-01T00:00:00+00:00"
    assert xv.timestamp("2008-09-15T15:53:00.601+08", "t").hour == 7


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["mailto:a@b.cn", "http://e.cn/x", "PT1H", "zh-CN", STATEMENT["id"]]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*prefix, i))
    return found


PATHS = _paths(STATEMENT)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PATHS), JSON_VALUES), min_size=1, max_size=4))
def test_no_statement_makes_the_validator_fail_other_than_by_refusing(
    changes: list[tuple[tuple[Any, ...], Any]],
) -> None:
    statement = copy.deepcopy(STATEMENT)
    for path, value in changes:
        node: Any = statement
        try:
            for step in path[:-1]:
                node = node[step]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed the way there
    with contextlib.suppress(XapiStatementInvalid):  # a refusal is fine; anything else fails
        xv.statement(statement)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(xf.PARAMS)), st.text(max_size=40), max_size=5))
def test_no_query_makes_the_query_reader_fail_other_than_by_refusing(
    params: dict[str, str],
) -> None:
    with contextlib.suppress(XapiBadQuery):
        xf.read_query(params)


def test_ids_format_keeps_identifiers_only() -> None:
    shown = xf.formatted(copy.deepcopy(STATEMENT), "ids", [])
    assert shown["actor"] == {"objectType": "Agent", "mbox": "mailto:li@school.cn"}
    assert shown["verb"] == {"id": STATEMENT["verb"]["id"]}
    assert shown["object"] == {"id": ACTIVITY["id"]}


def test_canonical_format_keeps_the_callers_language() -> None:
    languages = xf.preferred_languages("en;q=0.5, zh-CN")
    shown = xf.formatted(copy.deepcopy(STATEMENT), "canonical", languages)
    assert shown["object"]["definition"]["name"] == {"zh-CN": "师德师风建设"}
    english = xf.formatted(copy.deepcopy(STATEMENT), "canonical", ["en"])
    assert english["object"]["definition"]["name"] == {"en-US": "Teachers' ethics"}
    # An extension's value is the sender's, never trimmed.
    assert shown["object"]["definition"]["extensions"] == ACTIVITY["definition"]["extensions"]
