"""核对 (reconciliation): enrollment's registrations and teachers compared, per project and org,
with what learning (plans), lessons (review pools) and credits (teachers) hold; drift reported
with counts per org and teacher ids, and repaired by re-sending enrollment's own events for the
drifted teachers only (the resync's events, through the outbox)."""
