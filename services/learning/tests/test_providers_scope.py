"""Providers' scope (issue #12 point 1): a key of provider A never acts on provider B's routes,
whatever the path says; provider administration is for province admins of the provider's own
province; a provider reports only for teachers learning places in its province; user tokens
do not stand in for a provider's signature."""

from __future__ import annotations

import uuid

from services.learning.tests.test_providers_support import (
    LIXIA,
    OTHER_PROVINCE,
    PROVINCE,
    World,
    world,
)

__all__ = ["world"]

STAFF_ROLES = ("workshop_host", "expert", "training_institution", "provider")


async def other_provider(world: World) -> tuple[str, str, str]:
    """Provider B, registered by the same province, with a key of its own."""
    created = await world.client.post(
        "/providers", json={"code": "other", "name": "另一家"}, headers=world.admin
    )
    assert created.status_code == 201, created.text
    provider_b = created.json()["id"]
    key = await world.client.post(f"/providers/{provider_b}/keys", headers=world.admin)
    assert key.status_code == 201, key.text
    return provider_b, key.json()["key_id"], key.json()["secret"]


async def test_a_providers_key_never_acts_on_another_providers_routes(world: World) -> None:
    provider_b, key_b, secret_b = await other_provider(world)
    base = f"/providers/{provider_b}/completions"
    own = await world.signed("POST", base, world.completion("evt-b"), key_id=key_b, secret=secret_b)
    assert own.status_code == 201, own.text
    # Provider A's key (world's) on B's routes: refused, B's records untouched.
    for r in (
        await world.signed("POST", base, world.completion("evt-a")),
        await world.signed("GET", base),
        await world.signed("POST", f"{base}/batch", {"completions": [world.completion("evt-c")]}),
        await world.signed("DELETE", f"{base}/evt-b"),
    ):
        assert (r.status_code, r.json()["code"]) == (403, "key_not_for_provider"), r.text
        assert "evt-b" not in r.json()["detail"]  # (the instance echoes the path sent)
    listed = await world.signed("GET", base, key_id=key_b, secret=secret_b)
    assert [e["event_id"] for e in listed.json()["items"]] == ["evt-b"]
    assert listed.json()["items"][0].get("retracted_at") is None
    # And A's own list holds nothing of B's.
    mine = await world.signed("GET", f"/providers/{world.provider_id}/completions")
    assert mine.status_code == 200 and mine.json()["items"] == []


async def test_a_user_token_does_not_stand_in_for_a_providers_signature(world: World) -> None:
    url = f"/providers/{world.provider_id}/completions"
    for role, path in (("province_admin", PROVINCE), ("provider", PROVINCE)):
        headers = {"Authorization": f"Bearer {world.token_for(role, path)}"}
        r = await world.client.post(url, json=world.completion(), headers=headers)
        assert r.status_code == 401, r.text


async def test_provider_administration_is_for_province_admins_only(world: World) -> None:
    pid = world.provider_id
    routes = (
        ("GET", "/providers", None),
        ("POST", "/providers", {"code": "x9", "name": "X"}),
        ("GET", f"/providers/{pid}", None),
        ("GET", f"/providers/{pid}/keys", None),
        ("POST", f"/providers/{pid}/keys", None),
        ("DELETE", f"/providers/{pid}/keys/{world.key_id}", None),
    )
    callers = [
        ("city_admin", LIXIA[:2]),
        ("county_admin", LIXIA[:3]),
        ("school_admin", LIXIA),
        ("teacher", LIXIA),
        *((role, PROVINCE) for role in STAFF_ROLES),
    ]
    for role, path in callers:
        headers = {"Authorization": f"Bearer {world.token_for(role, path)}"}
        for method, url, body in routes:
            r = await world.client.request(method, url, json=body, headers=headers)
            assert r.status_code == 403, (role, method, url, r.text)
    other = {"Authorization": f"Bearer {world.token_for('province_admin', OTHER_PROVINCE[:1])}"}
    for method, url, body in routes[2:]:
        r = await world.client.request(method, url, json=body, headers=other)
        assert (r.status_code, r.json()["code"]) == (404, "provider_not_found"), (method, url)
    # The key still works: none of the refused calls revoked it.
    assert (await world.post_completion(world.completion("evt-still"))).status_code == 201


async def test_a_provider_reports_only_for_teachers_of_its_province(world: World) -> None:
    outsider = uuid.uuid4()
    await world.register(outsider, org=OTHER_PROVINCE)
    r = await world.post_completion(world.completion("evt-x", teacher_id=str(outsider)))
    assert (r.status_code, r.json()["code"]) == (422, "learner_not_registered")
