"""Sign-in sessions (登录会话): rotating refresh-token families, and the gateway's view of the
sessions that ended, checked on every request carrying a bearer token."""
