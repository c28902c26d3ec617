"""Machinery every Yanxiu service uses: settings, db, outbox/relay, inbox/consumer, auth,
problem+json errors, logging, health and metrics."""
