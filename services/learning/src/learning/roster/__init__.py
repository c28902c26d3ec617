"""名册核对 (roster): the project's learning plans as a roster — teacher, stored org path,
status — for enrollment's reconciliation and `yanxiu reconcile` (yanxiu.kit.roster)."""
