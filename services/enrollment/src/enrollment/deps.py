"""Enrollment's own request dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from yanxiu.kit.deps import runtime
from yanxiu.kit.outbox import Outbox
from yanxiu.kit.pii import PiiCipher


async def pii_cipher(request: Request) -> PiiCipher:
    cipher: PiiCipher = runtime(request).extras["pii"]
    return cipher


async def outbox(request: Request) -> Outbox:
    return runtime(request).outbox


Pii = Annotated[PiiCipher, Depends(pii_cipher)]
EventOutbox = Annotated[Outbox, Depends(outbox)]
