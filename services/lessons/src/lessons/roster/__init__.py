"""名册核对 (roster): the project's review pools (who may be assigned reviews) as a roster —
teacher, stored org path, status — for enrollment's reconciliation and `yanxiu reconcile`."""
