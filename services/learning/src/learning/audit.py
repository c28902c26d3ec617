"""审计日志: learning's audit trail (yanxiu.kit.audit) over its own `audit_log` table: the
province's catalogue and rule changes, providers and their keys, providers' account links (which
agent is which teacher: they decide whose hours count), schools' topic choices and school-based
hours. Teachers' own study (heartbeats, selections, assessments), providers' signed completions
and xAPI statements are not in it: they are the learning record itself, kept elsewhere."""

from __future__ import annotations

from learning.models import machinery
from yanxiu.kit.audit import AuditTrail

AUDIT = AuditTrail(machinery["audit_log"])
