"""审计日志: credits' audit trail (yanxiu.kit.audit) over its own `audit_log` table: offline
records through entry, review and approval (also in each record's own history), ledger
reversals by admins, and certificates issued."""

from __future__ import annotations

from credits.models import machinery
from yanxiu.kit.audit import AuditTrail

AUDIT = AuditTrail(machinery["audit_log"])
