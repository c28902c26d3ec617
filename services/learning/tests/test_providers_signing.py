"""The signature scheme as pure functions (no I/O): the documented bytes, the header forms,
the window, and the statement comparison and completion rules of xAPI."""

from __future__ import annotations

import uuid

import pytest

from learning.providers import signing
from learning.providers import xapi_statements as xs
from learning.providers.errors import XapiStatementInvalid

# Computed independently: printf '%s' '1793600000.{"event_id":"evt-1"}' |
#   openssl dgst -sha256 -hmac 'sk_test_secret'
VECTOR = "ccf81d52fc4229e8d69cd3f9ff65bbc07b20eec036880696fb06a2b32a719fdd"


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    body = b'{"event_id":"evt-1"}'
    assert signing.signature("sk_test_secret", "1793600000", body) == VECTOR
    headers = signing.sign_headers("pk_1", "sk_test_secret", body, timestamp=1793600000)
    assert headers == {
        "X-Provider-Key": "pk_1",
        "X-Provider-Timestamp": "1793600000",
        "X-Provider-Signature": "sha256=" + VECTOR,
    }


def test_signature_comparison_rejects_any_other_body_or_timestamp() -> None:
    body = b'{"event_id":"evt-1"}'
    assert signing.matches("sk_test_secret", "1793600000", body, VECTOR)
    assert not signing.matches("sk_test_secret", "1793600001", body, VECTOR)
    assert not signing.matches("sk_test_secret", "1793600000", body + b" ", VECTOR)
    assert not signing.matches("sk_other", "1793600000", body, VECTOR)


@pytest.mark.parametrize("raw", ["", "-5", "1.5", "١٢٣", "12e3", "9" * 13])
def test_malformed_timestamps_are_refused(raw: str) -> None:
    assert signing.parse_timestamp(raw) is None


@pytest.mark.parametrize("raw", ["", VECTOR, "md5=" + VECTOR, "sha256=xyz", "sha256=" + "g" * 64])
def test_malformed_signatures_are_refused(raw: str) -> None:
    assert signing.parse_signature(raw) is None


def test_the_replay_window_is_symmetric() -> None:
    assert signing.within_window(1000, 1300, 300)
    assert signing.within_window(1300, 1000, 300)
    assert not signing.within_window(1000, 1301, 300)
    assert not signing.within_window(1301, 1000, 300)


def _stmt(**over: object) -> dict[str, object]:
    stmt: dict[str, object] = {
        "actor": {"mbox": "mailto:li@school.cn"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": "https://yanxiu.example/xapi/courses/C1"},
    }
    stmt.update(over)
    return stmt


def test_statement_comparison_ignores_what_the_lrs_sets() -> None:
    a = _stmt(id=str(uuid.uuid4()), timestamp="2026-01-01T00:00:00Z")
    b = _stmt(stored="2026-02-01T00:00:00Z", authority={"mbox": "mailto:x@y.cn"}, version="1.0.3")
    assert xs.same_statement(a, b)
    assert not xs.same_statement(a, _stmt(result={"completion": True}))


def test_completion_statements_are_completed_passed_or_result_completion() -> None:
    assert xs.is_completion(xs.validate(_stmt()))
    passed = _stmt(verb={"id": "http://adlnet.gov/expapi/verbs/passed"})
    assert xs.is_completion(xs.validate(passed))
    experienced = {"id": "http://adlnet.gov/expapi/verbs/experienced"}
    assert not xs.is_completion(xs.validate(_stmt(verb=experienced)))
    assert xs.is_completion(xs.validate(_stmt(verb=experienced, result={"completion": True})))
    failed = _stmt(result={"completion": True, "success": False})
    assert not xs.is_completion(xs.validate(failed))


@pytest.mark.parametrize(
    "bad",
    [
        {"verb": {"id": "not an iri"}},
        {"actor": {"name": "nobody"}},
        {"actor": {"mbox": "li@school.cn"}},
        {"object": {"objectType": "Nonsense", "id": "x:y"}},
        {"result": {"completion": "yes"}},
        {"context": {"registration": "not-a-uuid"}},
        {"timestamp": "yesterday"},
        {"version": "0.95"},
    ],
)
def test_malformed_statement_parts_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(XapiStatementInvalid):
        xs.validate(_stmt(**bad))
