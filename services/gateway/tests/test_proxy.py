"""The reverse proxy: /api/v1/<service>/<path> reaches the service and its answer comes back."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from typing import Any

from prometheus_client import REGISTRY

from gateway.main import create_app
from yanxiu.testing import app_client, free_port


def headers_of(echo: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in echo["headers"]:
        out.setdefault(k, []).append(v)
    return out


async def test_proxy_forwards_method_path_query_and_body(gateway: Any, upstream_url: str) -> None:
    async with gateway(enrollment_url=upstream_url) as client:
        answer = await client.patch(
            "/api/v1/enrollment/echo/teachers/a%2Fb?school=s-1&tag=%E8%AF%AD%E6%96%87&tag=x",
            json={"name": "李老师"},
            headers={"Authorization": "Bearer t0ken", "X-Custom": "kept"},
        )
    assert answer.status_code == 200
    echo = answer.json()
    assert echo["method"] == "PATCH"
    assert echo["raw_path"] == "/echo/teachers/a%2Fb"  # encoded slash kept as sent
    assert echo["query"] == "school=s-1&tag=%E8%AF%AD%E6%96%87&tag=x"
    assert echo["body"] == '{"name":"李老师"}'
    seen = headers_of(echo)
    assert seen["authorization"] == ["Bearer t0ken"]
    assert seen["x-custom"] == ["kept"]
    assert seen["content-type"] == ["application/json"]


async def test_request_id_is_returned_and_forwarded(gateway: Any, upstream_url: str) -> None:
    async with gateway(enrollment_url=upstream_url) as client:
        given = await client.get("/api/v1/enrollment/echo/x", headers={"X-Request-ID": "req-123"})
        generated = await client.get("/api/v1/enrollment/echo/x")
    assert given.headers["x-request-id"] == "req-123"
    assert headers_of(given.json())["x-request-id"] == ["req-123"]
    rid = generated.headers["x-request-id"]
    assert rid and headers_of(generated.json())["x-request-id"] == [rid]


async def test_proxy_drops_hop_by_hop_headers_and_host_and_adds_forwarded_for(
    gateway: Any, upstream_url: str
) -> None:
    async with gateway(enrollment_url=upstream_url) as client:
        answer = await client.get(
            "/api/v1/enrollment/echo/x",
            headers={
                "Connection": "keep-alive, X-Secret-Hop",
                "X-Secret-Hop": "1",
                "Keep-Alive": "timeout=5",
                "TE": "trailers",
                "Proxy-Authorization": "Basic Zm9vOmJhcg==",
                "X-Forwarded-For": "10.0.0.1",
            },
        )
    seen = headers_of(answer.json())
    for dropped in ("x-secret-hop", "keep-alive", "te", "proxy-authorization"):
        assert dropped not in seen
    assert seen["host"] != ["testserver"]  # the upstream's own host, not the gateway's
    assert seen["x-forwarded-for"] == ["10.0.0.1, 127.0.0.1"]
    assert seen["x-forwarded-host"] == ["testserver"]
    assert seen["x-forwarded-prefix"] == ["/api/v1/enrollment"]


async def test_proxy_passes_back_status_and_headers(gateway: Any, upstream_url: str) -> None:
    async with gateway(enrollment_url=upstream_url) as client:
        created = await client.post("/api/v1/enrollment/created")
        missing = await client.get("/api/v1/enrollment/no/such/path")
    assert created.status_code == 201
    assert created.headers["location"] == "/things/1"
    assert len(created.headers.get_list("set-cookie")) == 2
    assert "server" not in created.headers  # the gateway's own server adds its own
    assert missing.status_code == 404  # the service's own answer, passed through


async def test_proxy_streams_large_bodies_both_ways(gateway: Any, upstream_url: str) -> None:
    payload = bytes(range(256)) * 20_000  # ~5 MB
    # Past the 1 MiB default body limit: this route is given a larger one.
    limits = {"/api/v1/enrollment/digest": 8 << 20}
    async with gateway(enrollment_url=upstream_url, body_limits=limits) as client:
        up = await client.post(
            "/api/v1/enrollment/digest",
            content=payload,
            headers={"content-type": "application/octet-stream"},
        )
        down = await client.get("/api/v1/enrollment/bytes/3000000")
    assert up.json() == {"size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
    assert down.status_code == 200 and len(down.content) == 3_000_000


async def test_proxy_answers_503_problem_json_when_service_down(gateway: Any) -> None:
    async with gateway() as client:  # every upstream URL points at a closed port
        answer = await client.get("/api/v1/credits/ledger/t-1")
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["code"] == "service_unavailable"
    assert problem["service"] == "credits"
    assert "credits 服务暂不可用" in problem["detail"]
    assert "The credits service is unavailable" in problem["detail"]
    assert answer.headers["x-request-id"] == problem["trace_id"]


async def test_proxy_answers_503_when_service_times_out(gateway: Any, upstream_url: str) -> None:
    async with gateway(learning_url=upstream_url, upstream_timeout_seconds=0.3) as client:
        answer = await client.get("/api/v1/learning/slow", params={"seconds": 2})
    assert answer.status_code == 503
    assert answer.json()["service"] == "learning"


async def test_unknown_service_answers_404_problem_json(gateway: Any) -> None:
    async with gateway() as client:
        answer = await client.get("/api/v1/payroll/anything")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "unknown_service"


async def test_one_connection_pool_serves_every_upstream_call(
    make_settings: Any, upstream_url: str
) -> None:
    app = create_app(make_settings(enrollment_url=upstream_url, lessons_url=upstream_url))
    async with app_client(app) as client:
        pools = app.state.runtime.pools
        for service in ("enrollment", "lessons", "enrollment"):
            assert (await client.get(f"/api/v1/{service}/echo/x")).status_code == 200
        assert len(pools) == 1  # the same URL, the same pool
        assert pools.for_url(upstream_url).idle == 1  # one connection, kept alive and reused


async def test_keep_alive_connection_closed_by_the_service_is_retried_for_idempotent_methods(
    make_settings: Any, serve_upstream: Any
) -> None:
    port = free_port()
    app = create_app(make_settings(enrollment_url=f"http://127.0.0.1:{port}"))
    async with app_client(app) as client:
        async with serve_upstream("enrollment", port):
            assert (await client.get("/api/v1/enrollment/echo/x")).status_code == 200
        # The service restarted: the kept connection is dead, the next request still gets in.
        async with serve_upstream("enrollment", port):
            assert (await client.get("/api/v1/enrollment/echo/y")).status_code == 200
            assert (await client.post("/api/v1/enrollment/echo/z", json={})).status_code == 200


async def test_proxy_relays_a_chunked_request_body(gateway: Any, upstream_url: str) -> None:
    async def parts() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b"y" * 10_000

    async with gateway(enrollment_url=upstream_url) as client:
        answer = await client.post("/api/v1/enrollment/digest", content=parts())
    expected = hashlib.sha256(b"y" * 400_000).hexdigest()
    assert answer.json() == {"size": 400_000, "sha256": expected}


async def test_head_request_gets_headers_and_no_body(gateway: Any, upstream_url: str) -> None:
    async with gateway(enrollment_url=upstream_url) as client:
        head = await client.head("/api/v1/enrollment/projects")
        after = await client.get("/api/v1/enrollment/echo/after")
    assert head.status_code in (200, 405) and head.content == b""
    assert after.status_code == 200 and after.json()["path"] == "/echo/after"


async def test_many_concurrent_requests_share_a_bounded_pool(
    make_settings: Any, upstream_url: str
) -> None:
    app = create_app(make_settings(enrollment_url=upstream_url, upstream_max_connections=4))
    async with app_client(app) as client:
        answers = await asyncio.gather(
            *(client.get(f"/api/v1/enrollment/echo/{i}") for i in range(50))
        )
        assert [a.json()["path"] for a in answers] == [f"/echo/{i}" for i in range(50)]
        assert app.state.runtime.pools.for_url(upstream_url).idle <= 4


async def test_a_callers_trace_reaches_the_service_with_the_gateway_as_parent(
    gateway: Any, upstream_url: str
) -> None:
    trace, callers_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    async with gateway(enrollment_url=upstream_url) as client:
        answer = await client.get(
            "/api/v1/enrollment/echo/x", headers={"traceparent": f"00-{trace}-{callers_span}-01"}
        )
    [sent_on] = headers_of(answer.json())["traceparent"]
    version, trace_id, parent, flags = sent_on.split("-")
    assert (version, trace_id, flags) == ("00", trace, "01")
    assert parent != callers_span  # the gateway's own span is the service's parent
    assert answer.headers["traceparent"].split("-")[1] == trace
    assert answer.headers["traceparent"].split("-")[2] == parent


async def test_forwarded_requests_are_counted_under_their_service_not_their_path(
    gateway: Any, upstream_url: str
) -> None:
    labels = {
        "service": "gateway",
        "method": "GET",
        "route": "/api/v1/enrollment/{path}",
        "status": "200",
    }
    before = REGISTRY.get_sample_value("yanxiu_http_requests_total", labels) or 0.0
    async with gateway(enrollment_url=upstream_url) as client:
        for n in range(3):
            assert (await client.get(f"/api/v1/enrollment/echo/{n}")).status_code == 200
    assert REGISTRY.get_sample_value("yanxiu_http_requests_total", labels) == before + 3
