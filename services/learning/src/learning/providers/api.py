"""Thin routes: 第三方机构 registry and keys (province admins), providers' signed completion
events, and the xAPI statements resource (see `xapi_api`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from learning.providers import completions, registry
from learning.providers.auth import SignedProvider, cipher
from learning.providers.errors import KeyNotForProvider
from learning.providers.schemas import (
    BatchItemResult,
    CompletionBatchIn,
    CompletionBatchResult,
    CompletionIn,
    CompletionResult,
    KeyIssued,
    KeyRead,
    ProviderCreate,
    ProviderRead,
)
from learning.providers.signing import SIGNING_DOC
from learning.providers.xapi_api import about_router
from learning.providers.xapi_api import router as xapi_router
from learning.providers.xapi_documents_api import router as xapi_documents_router
from learning.providers.xapi_links_api import router as xapi_links_router
from yanxiu.kit.audit_api import audited
from yanxiu.kit.deps import CurrentUser, Session
from yanxiu.kit.openapi import operation_id
from yanxiu.kit.pagination import MAX_LIMIT, Page

router = APIRouter(tags=["providers"], generate_unique_id_function=operation_id)
Cursor = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


@router.post(
    "/providers",
    openapi_extra=audited("provider.register"),
    response_model=ProviderRead,
    status_code=201,
    summary="登记第三方机构",
)
async def register_provider(
    body: ProviderCreate, session: Session, user: CurrentUser
) -> ProviderRead:
    return ProviderRead.model_validate(await registry.register(session, actor=user, data=body))


@router.get("/providers", response_model=Page[ProviderRead], summary="第三方机构 list")
async def list_providers(
    session: Session, user: CurrentUser, cursor: Cursor = None, limit: Limit = 100
) -> Page[ProviderRead]:
    return await registry.list_providers(session, actor=user, cursor=cursor, limit=limit)


@router.get("/providers/{provider_id}", response_model=ProviderRead, summary="第三方机构 one")
async def get_provider(provider_id: uuid.UUID, session: Session, user: CurrentUser) -> ProviderRead:
    return ProviderRead.model_validate(
        await registry.get_provider(session, actor=user, provider_id=provider_id)
    )


@router.post(
    "/providers/{provider_id}/keys",
    openapi_extra=audited("provider.issue_key"),
    response_model=KeyIssued,
    status_code=201,
    summary="签发密钥 (the secret is shown once)",
    description="Issues a new signing key; several may be active (rotation: issue, switch, "
    "then DELETE the old one). The secret is returned only in this response.",
)
async def issue_key(
    provider_id: uuid.UUID, request: Request, session: Session, user: CurrentUser
) -> KeyIssued:
    return await registry.issue_key(
        session, actor=user, provider_id=provider_id, cipher=cipher(request)
    )


@router.get("/providers/{provider_id}/keys", response_model=list[KeyRead], summary="密钥 list")
async def list_keys(provider_id: uuid.UUID, session: Session, user: CurrentUser) -> list[KeyRead]:
    keys = await registry.list_keys(session, actor=user, provider_id=provider_id)
    return [KeyRead.model_validate(k) for k in keys]


@router.delete(
    "/providers/{provider_id}/keys/{key_id}",
    openapi_extra=audited("provider.revoke_key"),
    status_code=204,
    summary="吊销密钥 revoke a key",
)
async def revoke_key(
    provider_id: uuid.UUID,
    key_id: Annotated[str, Path(max_length=40)],
    session: Session,
    user: CurrentUser,
) -> Response:
    await registry.revoke_key(session, actor=user, provider_id=provider_id, key_id=key_id)
    return Response(status_code=204)


def _own(caller_provider_id: uuid.UUID, provider_id: uuid.UUID) -> None:
    if caller_provider_id != provider_id:
        raise KeyNotForProvider()


@router.post(
    "/providers/{provider_id}/completions",
    response_model=CompletionResult,
    status_code=201,
    summary="机构回传课程完成 (signed)",
    description=SIGNING_DOC
    + " Idempotent by `event_id`: the same event again gets 200 with the first result; the "
    "same event id with a different body 409 `event_id_reused`. The teacher needs an active "
    "plan in the project (422 `learner_not_registered`). A course counts once per teacher and "
    "project whatever channel or event id reports it: a repeat is 201 with status "
    "`already_counted` and the counting completion's id (no hours added; `score` may raise "
    "`best_score`). Dated in the future: 422 `completed_in_future`; outside the project's "
    "year or learning window: 422 `completion_outside_window`, or status `held` for an "
    "admin's decision where the rule set holds late completions.",
)
async def post_completion(
    provider_id: uuid.UUID,
    body: CompletionIn,
    response: Response,
    session: Session,
    caller: SignedProvider,
) -> CompletionResult:
    _own(caller.provider.id, provider_id)
    result, replayed = await completions.record(session, provider=caller.provider, data=body)
    if replayed:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return result


@router.get(
    "/providers/{provider_id}/completions",
    response_model=Page[CompletionResult],
    summary="机构对账: the provider's recorded events (signed)",
    description=SIGNING_DOC + " Ordered by event id; `retracted_at` is set once withdrawn.",
)
async def list_completions(
    provider_id: uuid.UUID,
    session: Session,
    caller: SignedProvider,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[CompletionResult]:
    _own(caller.provider.id, provider_id)
    return await completions.list_events(
        session, provider=caller.provider, cursor=cursor, limit=limit
    )


@router.post(
    "/providers/{provider_id}/completions/batch",
    response_model=CompletionBatchResult,
    summary="机构批量回传课程完成 (signed)",
    description=SIGNING_DOC
    + " Up to 500 events; each is judged alone (its `http_status` is what it would have had "
    "on its own: 201 recorded, 200 replayed, 409/422 refused with its `problem`).",
)
async def post_completion_batch(
    provider_id: uuid.UUID, body: CompletionBatchIn, session: Session, caller: SignedProvider
) -> CompletionBatchResult:
    _own(caller.provider.id, provider_id)
    rows = await completions.record_batch(session, provider=caller.provider, items=body.completions)
    return CompletionBatchResult(
        results=[
            BatchItemResult(event_id=e, http_status=s, result=r, problem=p) for e, s, r, p in rows
        ]
    )


@router.delete(
    "/providers/{provider_id}/completions/{event_id:path}",
    status_code=204,
    summary="机构撤回课程完成 (signed)",
    description=SIGNING_DOC
    + " Withdraws a recorded event: its completion no longer counts (CourseCompletionRevoked)."
    " Idempotent; the event id stays taken.",
)
async def retract_completion(
    provider_id: uuid.UUID,
    event_id: Annotated[str, Path(min_length=1, max_length=160)],
    session: Session,
    caller: SignedProvider,
) -> Response:
    _own(caller.provider.id, provider_id)
    await completions.retract(session, provider=caller.provider, event_id=event_id)
    return Response(status_code=204)


router.include_router(xapi_router)
router.include_router(xapi_documents_router)
router.include_router(xapi_links_router)
router.include_router(about_router)
