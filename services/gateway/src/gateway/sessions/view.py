"""The gateway's view of ended sessions (会话吊销视图), checked on every request with a bearer
token, proxied or its own, without a database query per request: an in-memory copy of the
families revoked and the accounts cut (disabled, moved, new password) within the last access-
token lifetime, read again every few seconds. The gateway accepts no token older than that
lifetime, so nothing older can matter, and the copy stays small.

When the database cannot be read, the last copy stays in force (a database outage must not turn
away every caller); a logout or reuse on this process is applied to it at once."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Scope

from gateway.sessions import store
from gateway.sessions.errors import SessionRevoked, TokenTooOld
from yanxiu.kit.auth import Principal, TokenVerifier
from yanxiu.kit.errors import DomainError, Unauthorized

log = logging.getLogger(__name__)

# Clocks of the gateway's processes and the database differ a little; a little slack.
CLOCK_SLACK_SECONDS = 60.0


class SessionView:
    def __init__(self, *, token_ttl_seconds: int) -> None:
        self.max_age = token_ttl_seconds + CLOCK_SLACK_SECONDS
        self._revoked: frozenset[str] = frozenset()
        self._accounts: dict[str, tuple[bool, float]] = {}
        self._read = False

    def readiness(self) -> str:
        """For /readyz: a gateway that has never read the ended sessions would let through the
        tokens of every session ended lately, so it is not ready until it has. Once read, a
        database outage leaves the last copy in force, and the gateway ready."""
        return "ok" if self._read else "error: ended sessions not read yet"

    @property
    def window_seconds(self) -> float:
        """How far back the database is read: as old as any token accepted, plus slack."""
        return self.max_age + CLOCK_SLACK_SECONDS

    def refusal(self, principal: Principal, now: float) -> DomainError | None:
        """Why a validly signed token must still be refused, or None."""
        issued = principal.issued_at
        if issued is None or now - issued > self.max_age:
            return TokenTooOld()
        if principal.session_id is not None and principal.session_id in self._revoked:
            return SessionRevoked()
        cut = self._accounts.get(principal.user_id)
        if cut is not None and (not cut[0] or issued < cut[1]):
            return SessionRevoked()
        return None

    def replace(self, ended: store.Ended) -> None:
        self._revoked, self._accounts = ended.sessions, ended.accounts
        self._read = True

    def revoke(self, session_ids: Iterable[object]) -> None:
        """Applies revocations made by this process at once (the next read brings them too)."""
        added = {str(sid) for sid in session_ids}
        if added:
            self._revoked = frozenset(self._revoked | added)


class GatewayVerifier(TokenVerifier):
    """The kit's verifier (signature, expiry, scope; remembered per token) plus the check
    against ended sessions, which is never remembered: it must see the next read at once."""

    def __init__(self, public_keys: list[str], *, issuer: str, view: SessionView) -> None:
        super().__init__(public_keys, issuer=issuer)
        self.view = view

    def verify(self, token: str) -> Principal:
        principal = super().verify(token)
        refused = self.view.refusal(principal, time.time())
        if refused is not None:
            raise refused
        return principal

    def verify_signature(self, token: str) -> Principal:
        """Signature, expiry and scope only: for ending a session that may have ended."""
        return super().verify(token)


def ended_session(verifier: TokenVerifier, scope: Scope) -> DomainError | None:
    """For the proxy: the refusal of a bearer token whose session ended. A token that does not
    verify at all is left to the service behind, which refuses it in its own words."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return None
            try:
                verifier.verify(token.strip())
            except (SessionRevoked, TokenTooOld) as exc:
                return exc
            except Unauthorized:
                return None
            return None
    return None


async def read_once(
    view: SessionView, session_factory: Callable[[], AsyncSession], *, timeout: float = 5.0
) -> bool:
    try:
        async with asyncio.timeout(timeout), session_factory() as session:
            view.replace(await store.ended_within(session, seconds=view.window_seconds))
        return True
    except Exception as exc:  # the database is down or slow: keep the last copy
        log.warning("ended sessions not read", extra={"error": repr(exc)})
        return False


async def keep_fresh(
    view: SessionView,
    session_factory: Callable[[], AsyncSession],
    *,
    every: float,
) -> None:
    """Reads the view every `every` seconds. (What has lapsed is deleted by the scheduled
    housekeeping: gateway.sessions.housekeeping.)"""
    while True:
        await asyncio.sleep(every)
        await read_once(view, session_factory)
