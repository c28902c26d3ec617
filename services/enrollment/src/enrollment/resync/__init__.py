"""重发 (resync): enrollment's current state sent again as events, so that a consumer whose read
model was lost can rebuild it when the broker no longer has the history (`yanxiu resync`)."""
