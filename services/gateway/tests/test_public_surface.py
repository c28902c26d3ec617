"""Only the public API is public: the services' metrics, docs, OpenAPI and probes are not served
through the gateway, the gateway's own /metrics needs the scraper's token, and the merged OpenAPI
lists no ops routes. The public keys are public."""

from __future__ import annotations

from typing import Any

import httpx
import jwt

from gateway.ops import is_service_ops_path
from yanxiu.kit.auth import Principal, Role, TokenVerifier, generate_keypair, issue_token
from yanxiu.kit.jwks import key_id, keys_from_jwks, load_public_keys

OPS = [
    "/metrics",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/openapi.json",
    "/healthz",
    "/readyz",
]


def test_ops_paths_are_recognised_however_they_are_written() -> None:
    for rest in ("metrics", "metrics/", "//metrics", "./docs", "x/../openapi.json", "docs/a"):
        assert is_service_ops_path(rest), rest
    for rest in ("", "teachers", "metrics-report", "documents", "healthz/teachers"):
        assert not is_service_ops_path(rest), rest


async def test_service_ops_routes_are_404_problems_at_the_gateway(
    gateway: Any, upstream_url: str
) -> None:
    async with gateway(enrollment_url=upstream_url) as client:
        for path in OPS:
            answer = await client.get(f"/api/v1/enrollment{path}")
            assert answer.status_code == 404, path
            assert answer.headers["content-type"] == "application/problem+json", path
            assert answer.json()["code"] == "not_found"
    # The service itself still serves them on its own (internal) port.
    async with httpx.AsyncClient(base_url=upstream_url) as internal:
        assert (await internal.get("/healthz")).status_code == 200
        assert (await internal.get("/openapi.json")).status_code == 200


async def test_gateway_metrics_need_the_metrics_token(gateway: Any) -> None:
    async with gateway() as client:
        unset = await client.get("/metrics")
    assert unset.status_code == 404
    async with gateway(metrics_token="scrape-secret-1") as client:
        missing = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        right = await client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-1"})
    assert missing.status_code == 401 and wrong.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    assert right.status_code == 200 and "yanxiu_http_requests_total" in right.text


async def test_merged_openapi_lists_no_ops_routes_of_the_services(
    gateway: Any, upstream_url: str
) -> None:
    async with gateway(enrollment_url=upstream_url) as client:
        paths = (await client.get("/openapi.json")).json()["paths"]
    assert "/api/v1/enrollment/teachers/{teacher_id}" in paths
    for path in OPS:
        assert f"/api/v1/enrollment{path}" not in paths
    assert {"/api/v1/auth/refresh", "/api/v1/auth/logout", "/api/v1/auth/jwks"} <= set(paths)
    assert "/metrics" not in paths and "/.well-known/jwks.json" not in paths


async def test_jwks_lists_the_current_key_and_the_previous_ones(
    gateway: Any, keypair: tuple[str, str]
) -> None:
    _, old_public = generate_keypair()
    async with gateway(jwt_previous_public_keys=old_public) as client:
        listed = await client.get("/api/v1/auth/jwks")
        well_known = await client.get("/.well-known/jwks.json")
    assert listed.status_code == 200 and listed.json() == well_known.json()
    (current,) = load_public_keys(keypair[1])
    (previous,) = load_public_keys(old_public)
    assert [k["kid"] for k in listed.json()["keys"]] == [key_id(current), key_id(previous)]
    assert all(k["alg"] == "EdDSA" and k["kty"] == "OKP" for k in listed.json()["keys"])
    assert not any("d" in k for k in listed.json()["keys"])  # public halves only
    assert set(keys_from_jwks(listed.json())) == {key_id(current), key_id(previous)}


async def test_after_a_rotation_tokens_of_the_previous_key_still_pass_and_unknown_kids_do_not(
    gateway: Any, keypair: tuple[str, str], upstream_url: str
) -> None:
    # Before: the gateway signed with `keypair`. Now it signs with a new key and lists the old.
    new_private, new_public = generate_keypair()
    teacher = Principal(user_id="u-1", role=Role.teacher, org_path=("370000",))
    before = issue_token(teacher, private_key_pem=keypair[0])
    stranger = issue_token(teacher, private_key_pem=generate_keypair()[0])
    async with gateway(jwt_private_key=new_private, jwt_previous_public_keys=keypair[1]) as client:
        old_ok = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {before}"})
        unknown = await client.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {stranger}"}
        )
        jwks = (await client.get("/.well-known/jwks.json")).json()
    assert old_ok.status_code == 200, old_ok.text
    assert (unknown.status_code, unknown.json()["code"]) == (401, "unknown_signing_key")
    # A service configured from the JWKS verifies both.
    (new_key,) = load_public_keys(new_public)
    assert jwks["keys"][0]["kid"] == key_id(new_key)
    service = TokenVerifier(new_public + keypair[1])
    assert service.verify(before).user_id == "u-1"
    assert jwt.get_unverified_header(before)["kid"] == jwks["keys"][1]["kid"]
