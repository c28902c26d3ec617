"""Resync (`yanxiu resync --from credits`): credits' current state re-sent as events."""
