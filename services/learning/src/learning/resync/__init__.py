"""`yanxiu resync --from learning`: learning's current state re-sent as events."""
