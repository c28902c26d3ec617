"""FastAPI dependencies: the request's unit of work and the authenticated caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from yanxiu.kit.auth import Principal
from yanxiu.kit.errors import Unauthorized
from yanxiu.kit.reads import Reader

if TYPE_CHECKING:
    from yanxiu.kit.app import Runtime


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


async def runtime_dependency(request: Request) -> Runtime:
    """`runtime` as a dependency (`async`: a plain `def` would run in the thread pool)."""
    return runtime(request)


# Safe methods read: their session runs in autocommit (kit.db.make_read_session_factory).
SAFE_METHODS = frozenset({"GET", "HEAD"})


async def session_dependency(request: Request) -> AsyncIterator[AsyncSession]:
    """The request boundary is the only place that commits; services only flush."""
    rt = runtime(request)
    if request.method in SAFE_METHODS:
        # A read has nothing to commit unless it recorded something (an audit entry); its
        # connection is in autocommit, so closing the session is all the clean-up there is.
        session = rt.read_session_factory()
        try:
            yield session
            if session.new or session.dirty or session.deleted:
                await session.commit()
        finally:
            await session.close()
        return
    async for session in transaction_dependency(request):
        yield session


async def reader_dependency(request: Request) -> Reader:
    return runtime(request).reader


@asynccontextmanager
async def recording_session(request: Request) -> AsyncIterator[AsyncSession]:
    """For a safe request that reads on the driver and only sometimes records something (a
    reveal of an ID number, with its audit entry): a session opened only then, committed
    when the block ends, so before the response is sent, like the request's own."""
    async with runtime(request).session_factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def transaction_dependency(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction, committed at the request boundary, whatever the method."""
    async with recording_session(request) as session:
        yield session


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("缺少访问令牌", "Missing bearer token")
    return token.strip()


def current_principal(request: Request) -> Principal:
    return runtime(request).verifier.verify(bearer_token(request))


async def principal_dependency(request: Request) -> Principal:
    # async: FastAPI runs a plain `def` dependency in a worker thread, a costly hop for every
    # request (token checks are remembered by the verifier; only a token naming a key not yet
    # known waits, once, for the JWKS).
    return await runtime(request).verifier.verify_async(bearer_token(request))


# scope="function": the commit runs when the route returns, before the response starts, so a
# success is only ever sent for a committed transaction (and a failed commit is an error).
Session = Annotated[AsyncSession, Depends(session_dependency, scope="function")]
# A read that needs a transaction of its own: rows streamed through a server-side cursor
# (exports), which PostgreSQL opens only inside a transaction, or one snapshot across its
# statements.
TransactionSession = Annotated[AsyncSession, Depends(transaction_dependency, scope="function")]
CurrentUser = Annotated[Principal, Depends(principal_dependency)]
# A safe request's reads on the driver (kit.reads): no session, no transaction, no ORM
# loading; for GET routes that write nothing.
Reads = Annotated[Reader, Depends(reader_dependency)]
