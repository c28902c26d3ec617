"""审计日志: lessons' audit trail (yanxiu.kit.audit) over its own `audit_log` table: the
admins' selections, awards and provincial choices, review allocation runs, revoked reviews,
and edits of lessons. A teacher creating a lesson, reviewing peers or flagging a lesson is
the work itself and is not audited."""

from __future__ import annotations

from lessons.models import machinery
from yanxiu.kit.audit import AuditTrail

AUDIT = AuditTrail(machinery["audit_log"])
