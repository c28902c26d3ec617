"""Errors of the reconciliation (核对)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from yanxiu.kit.errors import ServiceUnavailable

if TYPE_CHECKING:
    from enrollment.reconcile.streams import Stream

RETRY_AFTER_SECONDS = 5


class RosterUnavailable(ServiceUnavailable):
    code = "roster_unavailable"
    title_zh = "暂时无法读取对方服务的名册，未作核对"
    title_en = "A service's roster cannot be read now; nothing was reconciled"

    def __init__(self, stream: Stream) -> None:
        super().__init__(
            f"暂时无法读取{stream.label_zh}名册（{stream.service}），请稍后重试",
            f"Cannot read the roster of {stream.label_en} ({stream.service}) now, please retry",
            service=stream.service,
            retry_after=RETRY_AFTER_SECONDS,
        )
