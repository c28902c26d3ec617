"""Registered providers through the API on a real database: registry and keys (scope, secret
shown once and encrypted at rest, rotation), the HMAC signature (valid, wrong, expired,
replayed, unknown and revoked keys), and completion events (recorded once, replayed with the
first answer, 409 on a changed body, 422 for an unregistered teacher), single and batched."""

from __future__ import annotations

import asyncio
import time
import uuid

import orjson

from services.learning.tests.test_providers_support import (
    LIXIA,
    OTHER_PROVINCE,
    World,
    world,
)
from yanxiu.kit.pii import PiiCipher

__all__ = ["world"]


async def test_only_province_admins_register_providers_and_see_their_province(
    world: World,
) -> None:
    county = {"Authorization": f"Bearer {world.token_for('county_admin', LIXIA[:3])}"}
    refused = await world.client.post(
        "/providers", json={"code": "x1", "name": "X"}, headers=county
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"

    listed = await world.client.get("/providers", headers=world.admin)
    assert [p["code"] for p in listed.json()["items"]] == ["zhixue"]
    other = {"Authorization": f"Bearer {world.token_for('province_admin', OTHER_PROVINCE[:1])}"}
    assert (await world.client.get("/providers", headers=other)).json()["items"] == []
    hidden = await world.client.post(f"/providers/{world.provider_id}/keys", headers=other)
    assert hidden.status_code == 404
    assert hidden.json()["code"] == "provider_not_found"


async def test_provider_code_is_unique(world: World) -> None:
    again = await world.client.post(
        "/providers", json={"code": "zhixue", "name": "另一家"}, headers=world.admin
    )
    assert again.status_code == 409
    assert again.json()["code"] == "provider_code_taken"


async def test_key_secret_is_shown_once_and_stored_encrypted(world: World) -> None:
    keys = await world.client.get(f"/providers/{world.provider_id}/keys", headers=world.admin)
    assert [k["id"] for k in keys.json()] == [world.key_id]
    assert "secret" not in keys.json()[0]
    stored = await world.scalar(
        "SELECT secret_encrypted FROM learning.provider_keys WHERE id = :k", k=world.key_id
    )
    assert world.secret.encode() not in bytes(stored)
    cipher = PiiCipher(world.rt.settings.provider_secret_key)
    context = f"learning.provider_key:{world.key_id}"
    assert cipher.decrypt(bytes(stored), context=context) == world.secret


async def test_a_signed_completion_is_recorded(world: World) -> None:
    r = await world.post_completion(world.completion())
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "recorded"
    assert body["course_id"] == str(world.course_id)
    assert body["category"] == "general_required"
    assert "learning.course_completed" in await world.outbox_types()


async def test_a_wrong_signature_is_refused(world: World) -> None:
    r = await world.post_completion(world.completion(), secret="sk_not-the-secret")
    assert r.status_code == 401
    assert r.json()["code"] == "signature_invalid"
    assert await world.scalar("SELECT count(*) FROM learning.provider_events") == 0


async def test_a_body_changed_after_signing_is_refused(world: World) -> None:
    body = orjson.dumps(world.completion())
    headers = {"Content-Type": "application/json", **world.sign(body)}
    tampered = body.replace(b"evt-1", b"evt-2")
    r = await world.client.post(
        f"/providers/{world.provider_id}/completions", content=tampered, headers=headers
    )
    assert r.status_code == 401
    assert r.json()["code"] == "signature_invalid"


async def test_a_timestamp_outside_the_replay_window_is_refused(world: World) -> None:
    old = await world.post_completion(world.completion(), timestamp=int(time.time()) - 301)
    assert old.status_code == 401
    assert old.json()["code"] == "signature_expired"
    future = await world.post_completion(world.completion(), timestamp=int(time.time()) + 301)
    assert future.json()["code"] == "signature_expired"
    inside = await world.post_completion(world.completion(), timestamp=int(time.time()) - 250)
    assert inside.status_code == 201


async def test_a_replayed_signed_request_is_refused(world: World) -> None:
    body = orjson.dumps(world.completion())
    headers = {"Content-Type": "application/json", **world.sign(body)}
    path = f"/providers/{world.provider_id}/completions"
    first = await world.client.post(path, content=body, headers=headers)
    assert first.status_code == 201
    replay = await world.client.post(path, content=body, headers=headers)
    assert replay.status_code == 401
    assert replay.json()["code"] == "signature_replayed"


async def test_missing_or_malformed_signature_headers_are_refused(world: World) -> None:
    path = f"/providers/{world.provider_id}/completions"
    bare = await world.client.post(path, json=world.completion())
    assert (bare.status_code, bare.json()["code"]) == (401, "signature_missing")
    headers = world.sign(b"{}")
    headers["X-Provider-Signature"] = "md5=abc"
    bad = await world.client.post(path, content=b"{}", headers=headers)
    assert (bad.status_code, bad.json()["code"]) == (401, "signature_malformed")


async def test_an_unknown_key_is_refused(world: World) -> None:
    r = await world.post_completion(world.completion(), key_id="pk_0000000000000000")
    assert (r.status_code, r.json()["code"]) == (401, "key_unknown")


async def test_key_rotation_keeps_both_keys_until_the_old_one_is_revoked(world: World) -> None:
    new_id, new_secret = await world.issue_key()
    a = await world.post_completion(world.completion("evt-a"))
    b = await world.post_completion(world.completion("evt-b"), key_id=new_id, secret=new_secret)
    assert (a.status_code, b.status_code) == (201, 201)

    gone = await world.client.delete(
        f"/providers/{world.provider_id}/keys/{world.key_id}", headers=world.admin
    )
    assert gone.status_code == 204
    old = await world.post_completion(world.completion("evt-c"))
    assert (old.status_code, old.json()["code"]) == (401, "key_revoked")
    new = await world.post_completion(world.completion("evt-c"), key_id=new_id, secret=new_secret)
    assert new.status_code == 201


async def test_at_most_five_keys_are_active(world: World) -> None:
    for _ in range(4):
        await world.issue_key()
    sixth = await world.client.post(f"/providers/{world.provider_id}/keys", headers=world.admin)
    assert (sixth.status_code, sixth.json()["code"]) == (409, "too_many_active_keys")


async def test_a_key_only_posts_for_its_own_provider(world: World) -> None:
    other = await world.client.post(
        "/providers", json={"code": "other", "name": "另一家"}, headers=world.admin
    )
    r = await world.signed(
        "POST", f"/providers/{other.json()['id']}/completions", world.completion()
    )
    assert (r.status_code, r.json()["code"]) == (403, "key_not_for_provider")


async def test_the_same_event_again_returns_the_first_result_once(world: World) -> None:
    first = await world.post_completion(world.completion())
    # A retry is signed afresh (a new timestamp): the identical signed request is a replay.
    again = await world.post_completion(world.completion())
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    types = await world.outbox_types()
    assert types.count("learning.course_completed") == 1


async def test_the_same_event_id_with_a_different_body_is_a_conflict(world: World) -> None:
    await world.post_completion(world.completion())
    changed = await world.post_completion(world.completion(completed_at="2026-11-03T08:00:00Z"))
    assert (changed.status_code, changed.json()["code"]) == (409, "event_id_reused")


async def test_the_same_event_in_another_time_zone_is_the_same_body(world: World) -> None:
    await world.post_completion(world.completion())
    utc = await world.post_completion(world.completion(completed_at="2026-11-02T00:00:00Z"))
    assert utc.status_code == 200


async def test_a_teacher_without_an_active_plan_is_refused(world: World) -> None:
    stranger = await world.post_completion(world.completion(teacher_id=str(uuid.uuid4())))
    assert (stranger.status_code, stranger.json()["code"]) == (422, "learner_not_registered")
    withdrawn = uuid.uuid4()
    await world.register(withdrawn, status="withdrawn")
    r = await world.post_completion(world.completion("evt-w", teacher_id=str(withdrawn)))
    assert r.json()["code"] == "learner_not_registered"
    outsider = uuid.uuid4()
    await world.register(outsider, org=OTHER_PROVINCE)
    r = await world.post_completion(world.completion("evt-o", teacher_id=str(outsider)))
    assert r.json()["code"] == "learner_not_registered"
    # A refused event is not remembered: once registered, the same event id is recorded.
    assert await world.scalar("SELECT count(*) FROM learning.provider_events") == 0


async def test_a_providers_own_course_needs_title_category_and_hours(world: World) -> None:
    own = {"title": "信息技术应用能力提升", "category": "general_elective", "hours": "3"}
    r = await world.post_completion(world.completion(course=own))
    assert r.status_code == 201, r.text
    assert r.json()["course_id"] is None
    assert r.json()["hours"] == "3"
    partial = await world.post_completion(world.completion("evt-2", course={"title": "无学时"}))
    assert partial.status_code == 422
    assert partial.json()["code"] == "validation_failed"
    unknown = await world.post_completion(world.completion("evt-3", course={"code": "NOPE"}))
    assert (unknown.status_code, unknown.json()["code"]) == (422, "course_unresolvable")


async def test_a_batch_judges_each_event_alone(world: World) -> None:
    await world.post_completion(world.completion("evt-1"))
    batch = {
        "completions": [
            world.completion("evt-1"),
            world.completion("evt-2"),
            world.completion("evt-3", teacher_id=str(uuid.uuid4())),
            world.completion("evt-1", completed_at="2026-11-05T08:00:00Z"),
        ]
    }
    r = await world.signed("POST", f"/providers/{world.provider_id}/completions/batch", batch)
    assert r.status_code == 200, r.text
    statuses = [(x["event_id"], x["http_status"]) for x in r.json()["results"]]
    assert statuses == [("evt-1", 200), ("evt-2", 201), ("evt-3", 422), ("evt-1", 409)]
    assert r.json()["results"][2]["problem"]["code"] == "learner_not_registered"
    # evt-2 is the same course under a new event id: recorded as an attempt, no hours.
    assert r.json()["results"][1]["result"]["status"] == "already_counted"
    assert (await world.outbox_types()).count("learning.course_completed") == 1


async def test_concurrent_duplicates_of_one_event_record_one_completion(world: World) -> None:
    sent = [world.post_completion(world.completion()) for _ in range(4)]
    answers = await asyncio.gather(*sent)
    assert sorted(r.status_code for r in answers) == [200, 200, 200, 201]
    assert len({r.json()["completion_id"] for r in answers}) == 1
    assert (await world.outbox_types()).count("learning.course_completed") == 1
    assert await world.scalar("SELECT count(*) FROM learning.provider_events") == 1


async def test_a_completion_dated_in_the_future_is_refused(world: World) -> None:
    r = await world.post_completion(world.completion(completed_at="2099-01-01T00:00:00Z"))
    assert (r.status_code, r.json()["code"]) == (422, "completed_in_future")


async def test_control_characters_in_an_event_are_a_validation_problem(world: World) -> None:
    r = await world.post_completion(world.completion("evt\u0000-1"))
    assert (r.status_code, r.json()["code"]) == (422, "validation_failed")
    assert r.json()["errors"][0]["field"] == "event_id"


async def test_a_provider_retracts_an_event_and_its_completion_is_revoked(world: World) -> None:
    await world.post_completion(world.completion("evt/渠道-1"))
    path = f"/providers/{world.provider_id}/completions/evt%2F%E6%B8%A0%E9%81%93-1"
    gone = await world.signed("DELETE", path)
    assert gone.status_code == 204, gone.text
    assert (await world.outbox_types()).count("learning.course_completion_revoked") == 1
    again = await world.signed("DELETE", path)
    assert again.status_code == 204
    assert (await world.outbox_types()).count("learning.course_completion_revoked") == 1
    # The event id stays taken: re-sending it replays the retracted result.
    replay = await world.post_completion(world.completion("evt/渠道-1"))
    assert replay.status_code == 200
    assert replay.json()["retracted_at"] is not None
    missing = await world.signed("DELETE", f"/providers/{world.provider_id}/completions/nope")
    assert (missing.status_code, missing.json()["code"]) == (404, "completion_event_not_found")


async def test_a_delete_signature_is_bound_to_its_target(world: World) -> None:
    await world.post_completion(world.completion("evt-a"))
    target = f"/providers/{world.provider_id}/completions/evt-a"
    headers = world.sign(target.encode())
    other = f"/providers/{world.provider_id}/completions/evt-b"
    r = await world.client.delete(other, headers=headers)
    assert (r.status_code, r.json()["code"]) == (401, "signature_invalid")


async def test_the_longest_event_id_is_recorded_and_a_longer_one_refused(world: World) -> None:
    longest = await world.post_completion(world.completion("e" * 160))
    assert longest.status_code == 201, longest.text
    longer = await world.post_completion(world.completion("e" * 161))
    assert (longer.status_code, longer.json()["code"]) == (422, "validation_failed")


async def test_a_provider_reconciles_its_recorded_events_page_by_page(world: World) -> None:
    for event_id in ("evt-1", "evt-2", "evt-3"):
        await world.post_completion(world.completion(event_id))
    await world.signed("DELETE", f"/providers/{world.provider_id}/completions/evt-2")
    base = f"/providers/{world.provider_id}/completions"
    first = await world.signed("GET", f"{base}?limit=2")
    assert first.status_code == 200, first.text
    page = first.json()
    assert [e["event_id"] for e in page["items"]] == ["evt-1", "evt-2"]
    assert page["items"][1]["retracted_at"] is not None
    rest = await world.signed("GET", f"{base}?limit=2&cursor={page['next_cursor']}")
    assert [e["event_id"] for e in rest.json()["items"]] == ["evt-3"]
    assert rest.json()["next_cursor"] is None
