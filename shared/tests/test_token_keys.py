"""Token keys: every token names its key (`kid`, the RFC 7638 thumbprint); a verifier trusts
several keys, so the signing key rotates without logging anyone out."""

from __future__ import annotations

import asyncio
import base64

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import FastAPI

from yanxiu.kit.auth import (
    Principal,
    Role,
    TokenVerifier,
    UnknownSigningKey,
    generate_keypair,
    issue_token,
)
from yanxiu.kit.errors import Unauthorized
from yanxiu.kit.jwks import jwks_document, key_id, load_public_keys
from yanxiu.testing import served

OLD_PRIV, OLD_PUB = generate_keypair()
NEW_PRIV, NEW_PUB = generate_keypair()
TEACHER = Principal(user_id="u1", role=Role.teacher, org_path=("370000", "370100", "370102", "s"))


def test_key_id_is_the_rfc_7638_thumbprint() -> None:
    # RFC 8037, appendix A.3: the thumbprint of the example Ed25519 public key.
    x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "="))
    assert key_id(key) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_every_token_names_its_key() -> None:
    token = issue_token(TEACHER, private_key_pem=NEW_PRIV)
    (key,) = load_public_keys(NEW_PUB)
    assert jwt.get_unverified_header(token)["kid"] == key_id(key)


def test_a_token_signed_by_the_previous_key_still_verifies_after_rotation() -> None:
    before = issue_token(TEACHER, private_key_pem=OLD_PRIV)
    after = issue_token(TEACHER, private_key_pem=NEW_PRIV)
    # After the rotation the services trust both keys: two PEM blocks in one setting.
    verifier = TokenVerifier(NEW_PUB + "\n" + OLD_PUB)
    assert verifier.verify(before).user_id == "u1"
    assert verifier.verify(after).user_id == "u1"


def test_a_token_naming_an_unknown_key_is_401() -> None:
    token = issue_token(TEACHER, private_key_pem=OLD_PRIV)
    with pytest.raises(UnknownSigningKey) as err:
        TokenVerifier(NEW_PUB).verify(token)
    assert err.value.status == 401 and err.value.code == "unknown_signing_key"


def test_a_token_whose_kid_names_a_trusted_key_but_another_signed_it_is_refused() -> None:
    (new_key,) = load_public_keys(NEW_PUB)
    forged = issue_token(TEACHER, private_key_pem=OLD_PRIV, key_id=key_id(new_key))
    with pytest.raises(Unauthorized):
        TokenVerifier([NEW_PUB, OLD_PUB]).verify(forged)


def test_a_token_without_a_kid_is_checked_against_every_trusted_key() -> None:
    claims = {"iss": "yanxiu", "sub": "u1", "role": "teacher", "org": ["370000"], "exp": 2**31}
    legacy = jwt.encode(claims, OLD_PRIV, algorithm="EdDSA")
    assert "kid" not in jwt.get_unverified_header(legacy)
    assert TokenVerifier([NEW_PUB, OLD_PUB]).verify(legacy).user_id == "u1"


def test_a_key_that_is_not_ed25519_pem_is_a_startup_error() -> None:
    with pytest.raises(ValueError):
        TokenVerifier("not a key")


def test_iat_keeps_its_fraction_of_a_second_and_sid_is_carried() -> None:
    token = issue_token(TEACHER, private_key_pem=NEW_PRIV, session_id="s-1")
    principal = TokenVerifier(NEW_PUB).verify(token)
    assert principal.session_id == "s-1"
    assert principal.issued_at is not None and principal.issued_at != int(principal.issued_at)
    # Not part of the caller as the API shows it.
    assert "session_id" not in principal.model_dump() and "issued_at" not in principal.model_dump()


async def test_a_verifier_with_a_jwks_url_learns_a_new_key_when_a_token_names_it() -> None:
    keys = {"pems": [OLD_PUB]}
    fetches = []
    app = FastAPI()

    @app.get("/.well-known/jwks.json")
    async def published() -> dict[str, object]:
        fetches.append(1)
        return jwks_document(load_public_keys(keys["pems"]))

    async with served(app) as url:
        verifier = TokenVerifier(
            issuer="yanxiu", jwks_url=f"{url}/.well-known/jwks.json", jwks_min_interval=0.2
        )
        await verifier.refresh_keys()  # at startup
        assert await verifier.verify_async(issue_token(TEACHER, private_key_pem=OLD_PRIV))
        # The gateway rotates: the new key is published beside the old one.
        keys["pems"] = [NEW_PUB, OLD_PUB]
        await asyncio.sleep(0.25)
        new_token = issue_token(TEACHER, private_key_pem=NEW_PRIV)
        assert (await verifier.verify_async(new_token)).user_id == "u1"
        assert len(fetches) == 2
        # A flood of unknown kids fetches at most once per interval.
        stranger = issue_token(TEACHER, private_key_pem=generate_keypair()[0])
        results = await asyncio.gather(
            *(verifier.verify_async(stranger) for _ in range(20)), return_exceptions=True
        )
        assert all(isinstance(r, UnknownSigningKey) for r in results)
        assert len(fetches) <= 3


async def test_a_verifier_whose_first_jwks_fetch_failed_fetches_again_for_the_first_token() -> None:
    app = FastAPI()

    @app.get("/.well-known/jwks.json")
    async def published() -> dict[str, object]:
        return jwks_document(load_public_keys(NEW_PUB))

    verifier = TokenVerifier(jwks_url="http://127.0.0.1:9/jwks.json", jwks_min_interval=0.0)
    await verifier.refresh_keys()  # nothing listens there: the gateway was not up yet
    async with served(app) as url:
        verifier.jwks_url = f"{url}/.well-known/jwks.json"
        token = issue_token(TEACHER, private_key_pem=NEW_PRIV)
        assert (await verifier.verify_async(token)).user_id == "u1"
