"""重发 (resync): the lessons service's current state sent again as events, so that a dashboard
whose read model was lost can rebuild it when the broker no longer has the history."""
