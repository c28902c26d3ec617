"""登录 (sign in): username and password for a new session and its pair of tokens.

Unlike other use cases this one owns its transactions: the password check (argon2, a large
share of a core for each) must never hold a database connection, or a login storm exhausts the
pool and everything else fails with it. So: look the account up and let go of the connection,
check the password on the bounded hashing threads, then record the outcome in a short
transaction of its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.errors import InvalidCredentials
from gateway.hashing import PasswordHashing
from gateway.passwords import needs_rehash
from gateway.service import normalise_username
from gateway.sessions import families, store
from gateway.sessions.families import Issued
from gateway.throttle import SignInThrottle
from gateway.tokens import TokenIssuer


@dataclass(frozen=True)
class SignIn:
    """What signing in needs, built once in the gateway's lifespan."""

    session_factory: async_sessionmaker[AsyncSession]
    passwords: PasswordHashing
    throttle: SignInThrottle
    issuer: TokenIssuer
    refresh_ttl: int

    async def __call__(self, *, username: str, password: str, client: str) -> Issued:
        """The tokens for the right password of an active account. Raises SignInThrottled
        (429) for a client past its failures, SignInBusy (429) when too many sign-ins wait, and
        InvalidCredentials (401) for anything else, whatever the reason."""
        login = normalise_username(username)
        self.throttle.ensure_may_try(login, client)
        async with self.session_factory() as session:
            found = await store.login_account(session, login)
        # Verified even for unknown users, so that the time taken does not reveal who exists.
        matches = await self.passwords.verify(found.password_hash if found else None, password)
        if found is None or not found.active or not matches:
            self.throttle.failed(login, client)
            if found is not None:
                async with self.session_factory.begin() as session:
                    await store.record_failure(session, found.id)
            raise InvalidCredentials()
        new_hash = (
            await self.passwords.hash(password) if needs_rehash(found.password_hash) else None
        )
        async with self.session_factory.begin() as session:
            now = datetime.now(UTC)
            account = await store.record_success(session, found.id, now=now, new_hash=new_hash)
            if account is None:  # disabled while its password was being checked
                raise InvalidCredentials()
            issued = await families.start(
                session, self.issuer, account=account, refresh_ttl=self.refresh_ttl, now=now
            )
        self.throttle.succeeded(login, client)
        return issued
