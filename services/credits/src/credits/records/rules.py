"""Rules of offline records as data: hour conversion and the allowed status transitions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

# Zhaoqing notice: 培训结束时培训单位按半天4学时、一天8学时给予学分.
HOURS_PER_HALF_DAY = Decimal(4)
HOURS_PER_DAY = Decimal(8)

SUBMITTED = "submitted"  # 待初审
COUNTY_PASSED = "county_passed"  # 初审通过, 待审批
APPROVED = "approved"  # 审批通过, 已入账
COUNTY_REJECTED = "county_rejected"  # 初审退回
CITY_REJECTED = "city_rejected"  # 审批退回

STATUSES = (SUBMITTED, COUNTY_PASSED, APPROVED, COUNTY_REJECTED, CITY_REJECTED)
REJECTED = (COUNTY_REJECTED, CITY_REJECTED)

STATUS_ZH = {
    SUBMITTED: "待初审",
    COUNTY_PASSED: "待审批",
    APPROVED: "已通过",
    COUNTY_REJECTED: "初审退回",
    CITY_REJECTED: "审批退回",
}


def hours_for(*, half_days: int, days: int) -> Decimal:
    return HOURS_PER_HALF_DAY * half_days + HOURS_PER_DAY * days


def days_fit(*, start: date, end: date, half_days: int, days: int) -> bool:
    """The days and half days credited fit in the training's dates (first and last included)."""
    return 2 * days + half_days <= 2 * ((end - start).days + 1)
