"""名册核对 (roster): the teachers credits knows (its read model of enrollment's teachers) as a
roster — teacher and stored org path — for enrollment's reconciliation and `yanxiu reconcile`.
Credits knows every teacher, registered in a project or not, so its roster has no project."""
