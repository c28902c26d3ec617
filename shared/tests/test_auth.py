"""Roles and org scope carried by the gateway's tokens."""

from __future__ import annotations

import time

import jwt
import pytest

from yanxiu.kit.auth import Principal, Role, TokenVerifier, generate_keypair, issue_token
from yanxiu.kit.errors import OutOfScope, Unauthorized

PRIV, PUB = generate_keypair()


def county_admin() -> Principal:
    return Principal(user_id="u1", role=Role.county_admin, org_path=("370000", "371000", "371082"))


def test_admin_covers_only_its_own_subtree() -> None:
    admin = county_admin()
    assert admin.covers(["370000", "371000", "371082", "school-1"])
    assert not admin.covers(["370000", "371000", "371002", "school-2"])
    assert not admin.covers(["370000", "371000"])  # the city above is not its own


def test_request_outside_scope_is_refused_whatever_the_id() -> None:
    with pytest.raises(OutOfScope):
        county_admin().ensure_covers(["370000", "370100", "370102", "s"])


def test_token_round_trip_keeps_role_and_org_path() -> None:
    token = issue_token(county_admin(), private_key_pem=PRIV)
    p = TokenVerifier(PUB).verify(token)
    assert p.role is Role.county_admin and p.org_path == ("370000", "371000", "371082")


def test_token_signed_by_another_key_is_rejected() -> None:
    other_priv, _ = generate_keypair()
    with pytest.raises(Unauthorized):
        TokenVerifier(PUB).verify(issue_token(county_admin(), private_key_pem=other_priv))


def test_expired_token_is_rejected() -> None:
    token = issue_token(county_admin(), private_key_pem=PRIV, ttl_seconds=-10)
    with pytest.raises(Unauthorized) as err:
        TokenVerifier(PUB).verify(token)
    assert "过期" in err.value.detail_zh


def test_unsigned_token_is_rejected() -> None:
    token = jwt.encode(
        {
            "sub": "x",
            "role": "province_admin",
            "org": ["370000"],
            "iss": "yanxiu",
            "exp": int(time.time()) + 60,
        },
        key="",
        algorithm="none",
    )
    with pytest.raises(Unauthorized):
        TokenVerifier(PUB).verify(token)


def test_admin_token_whose_org_path_does_not_reach_its_level_is_rejected() -> None:
    short = Principal(user_id="u", role=Role.county_admin, org_path=("370000", "371000"))
    with pytest.raises(Unauthorized):
        TokenVerifier(PUB).verify(issue_token(short, private_key_pem=PRIV))


def test_a_remembered_token_still_expires() -> None:
    verifier = TokenVerifier(PUB)
    token = issue_token(county_admin(), private_key_pem=PRIV, ttl_seconds=1)
    assert verifier.verify(token).user_id == "u1"
    assert verifier.verify(token).user_id == "u1"  # the second check comes from memory
    time.sleep(2.05)
    with pytest.raises(Unauthorized):
        verifier.verify(token)


def test_a_tampered_copy_of_a_remembered_token_is_rejected() -> None:
    verifier = TokenVerifier(PUB)
    token = issue_token(county_admin(), private_key_pem=PRIV)
    verifier.verify(token)
    head, body, sig = token.split(".")
    forged = ".".join([head, body, sig[:-2] + ("AA" if not sig.endswith("AA") else "BB")])
    with pytest.raises(Unauthorized):
        verifier.verify(forged)
