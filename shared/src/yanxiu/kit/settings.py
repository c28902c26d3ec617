"""Settings common to every service, read from the environment (never at import time)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class KitSettings(BaseSettings):
    """What every process needs. A service subclasses it with `env_prefix="<NAME>_"`;
    each field also falls back to the unprefixed variable (DATABASE_URL, …)."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service_name: str = "yanxiu"
    database_url: str = Field(
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/yanxiu",
        validation_alias=AliasChoices("DATABASE_URL"),
    )
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS")
    )
    # Real Kafka supports the idempotent producer; the embedded Tansu broker does not.
    kafka_enable_idempotence: bool = Field(
        default=False, validation_alias=AliasChoices("KAFKA_ENABLE_IDEMPOTENCE")
    )
    # Prepended to every topic name; lets tests share one broker without crosstalk.
    kafka_topic_prefix: str = Field(default="", validation_alias=AliasChoices("KAFKA_TOPIC_PREFIX"))
    kafka_partitions: int = Field(default=6, validation_alias=AliasChoices("KAFKA_PARTITIONS"))
    # How the topics a service creates are replicated (yanxiu.kit.broker.new_topics): 1 for the
    # embedded broker and single-node Kafka; 3 with `min.insync.replicas` 2 on a production
    # cluster (deploy/k8s/overlays/production), so that with `acks="all"` an acknowledged event
    # is on two brokers and one broker may be lost or restarted. Unset: the broker's default.
    kafka_replication_factor: int = Field(
        default=1, ge=1, validation_alias=AliasChoices("KAFKA_REPLICATION_FACTOR")
    )
    kafka_min_insync_replicas: int | None = Field(
        default=None, ge=1, validation_alias=AliasChoices("KAFKA_MIN_INSYNC_REPLICAS")
    )
    # Tansu holds a group join for half the session timeout: keep it short in dev and tests.
    kafka_session_timeout_ms: int = Field(
        default=10_000, validation_alias=AliasChoices("KAFKA_SESSION_TIMEOUT_MS")
    )
    kafka_heartbeat_interval_ms: int = Field(
        default=3_000, validation_alias=AliasChoices("KAFKA_HEARTBEAT_INTERVAL_MS")
    )
    # How long a fetch may wait for data. Kafka answers as soon as data arrives; Tansu holds
    # the fetch for the full wait, so dev and tests use a short one.
    kafka_fetch_max_wait_ms: int = Field(
        default=500, validation_alias=AliasChoices("KAFKA_FETCH_MAX_WAIT_MS")
    )
    # Records a consumer takes per poll; each partition's share is one transaction, so larger
    # polls amortise the commit for high-volume streams (the credits ledger).
    kafka_max_poll_records: int = Field(
        default=500, ge=1, le=20_000, validation_alias=AliasChoices("KAFKA_MAX_POLL_RECORDS")
    )
    jwt_public_key: str = Field(default="", validation_alias=AliasChoices("JWT_PUBLIC_KEY"))
    jwt_public_key_file: str = Field(
        default="", validation_alias=AliasChoices("JWT_PUBLIC_KEY_FILE")
    )
    # Optional: the gateway's JWKS (http://gateway:8000/.well-known/jwks.json), fetched at
    # startup and when a token names a key not in JWT_PUBLIC_KEY(_FILE), so a key rotation
    # reaches the services without restarting them.
    jwt_jwks_url: str = Field(default="", validation_alias=AliasChoices("JWT_JWKS_URL"))
    jwt_issuer: str = Field(default="yanxiu", validation_alias=AliasChoices("JWT_ISSUER"))
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("LOG_LEVEL"))
    log_json: bool = Field(default=True, validation_alias=AliasChoices("LOG_JSON"))
    run_relay: bool = Field(default=True, validation_alias=AliasChoices("RUN_RELAY"))
    run_consumers: bool = Field(default=True, validation_alias=AliasChoices("RUN_CONSUMERS"))
    # Seconds between the relay's checks that the broker still holds what it acknowledged
    # (yanxiu.kit.broker_loss; also after every failed send), and the age of the oldest
    # unpublished outbox row past which /readyz says events are not being delivered.
    relay_check_interval_seconds: float = Field(
        default=5.0, gt=0, le=3600, validation_alias=AliasChoices("RELAY_CHECK_INTERVAL_SECONDS")
    )
    relay_max_unpublished_age_seconds: float = Field(
        default=30.0,
        gt=0,
        validation_alias=AliasChoices("RELAY_MAX_UNPUBLISHED_AGE_SECONDS"),
    )
    db_pool_size: int = Field(default=10, validation_alias=AliasChoices("DB_POOL_SIZE"))
    # The connections of the safe requests' driver pool (yanxiu.kit.reads), beside the
    # session engine's `db_pool_size`; both count against the database's connection limit.
    db_read_pool_size: int = Field(
        default=6, ge=1, le=100, validation_alias=AliasChoices("DB_READ_POOL_SIZE")
    )
    # Seconds: how long a request waits for a new database connection, and for a pooled one,
    # before it is answered 503 (yanxiu.kit.db explains the defaults).
    db_connect_timeout: float = Field(
        default=3.0, gt=0, le=60, validation_alias=AliasChoices("DB_CONNECT_TIMEOUT")
    )
    db_pool_timeout: float = Field(
        default=2.0, gt=0, le=60, validation_alias=AliasChoices("DB_POOL_TIMEOUT")
    )
    # Requests one process works on at once; past it a request is answered 503 `overloaded`
    # with `Retry-After: 1` at once (yanxiu.kit.admission). At the 500-2,000 requests a second
    # a process serves, 64 in flight are finished within ~30-130 ms, so under a burst of ten
    # times that the admitted requests still keep p99 under 200 ms, while the 32 connections of
    # ordinary load are never refused. Probes (/healthz, /readyz, /metrics) do not count.
    max_inflight_requests: int = Field(
        default=64, ge=1, validation_alias=AliasChoices("MAX_INFLIGHT_REQUESTS")
    )
    # The access log: "all" requests, or only "errors" (status 400 and up) and requests slower
    # than ACCESS_LOG_SLOW_MS. A service behind the gateway logs errors and slow requests only:
    # the gateway's own access log has every request, with the request id that the service's
    # lines carry too, and a log line per request cost a service 3 % of its time.
    access_log: Literal["all", "errors"] = Field(
        default="errors", validation_alias=AliasChoices("ACCESS_LOG")
    )
    access_log_slow_ms: float = Field(
        default=250.0, ge=0, validation_alias=AliasChoices("ACCESS_LOG_SLOW_MS")
    )
    # Housekeeping (yanxiu.kit.housekeeping): how often every process tries its turn (one
    # replica per schema works at a time), how many rows a transaction deletes, and how long
    # rows are kept. The inbox must outlive the broker's retention (Kafka's default: 7 days),
    # or a redelivered event would find no record of having been processed; published outbox
    # rows are what `yanxiu replay` and the relay's re-publishing after a broker loss send.
    housekeeping_enabled: bool = Field(
        default=True, validation_alias=AliasChoices("HOUSEKEEPING_ENABLED")
    )
    housekeeping_interval_seconds: float = Field(
        default=3600.0, gt=0, validation_alias=AliasChoices("HOUSEKEEPING_INTERVAL_SECONDS")
    )
    housekeeping_batch_size: int = Field(
        default=1000, ge=1, le=100_000, validation_alias=AliasChoices("HOUSEKEEPING_BATCH_SIZE")
    )
    inbox_retention_days: float = Field(
        default=14.0, gt=0, validation_alias=AliasChoices("INBOX_RETENTION_DAYS")
    )
    idempotency_retention_days: float = Field(
        default=7.0, gt=0, validation_alias=AliasChoices("IDEMPOTENCY_RETENTION_DAYS")
    )
    outbox_retention_hours: float = Field(
        default=72.0, gt=0, validation_alias=AliasChoices("OUTBOX_RETENTION_HOURS")
    )
    # How often `yanxiu_dlq_messages` (the dead letters waiting) is counted: it reads the
    # dead-letter topic's offsets and the dispositions table. 0 turns it off.
    dlq_depth_interval_seconds: float = Field(
        default=60.0, ge=0, validation_alias=AliasChoices("DLQ_DEPTH_INTERVAL_SECONDS")
    )

    @model_validator(mode="after")
    def _replicas_can_acknowledge(self) -> Self:
        # Every `acks="all"` write to a topic needing more in-sync replicas than it has fails.
        isr = self.kafka_min_insync_replicas
        if isr is not None and isr > self.kafka_replication_factor:
            raise ValueError(
                f"KAFKA_MIN_INSYNC_REPLICAS ({isr}) exceeds KAFKA_REPLICATION_FACTOR "
                f"({self.kafka_replication_factor}): no write could be acknowledged"
            )
        return self

    def topic(self, name: str) -> str:
        return f"{self.kafka_topic_prefix}{name}"

    def public_key_pem(self) -> str:
        """The trusted public key(s): one PEM block, or several while a key rotates."""
        if self.jwt_public_key:
            return self.jwt_public_key
        if self.jwt_public_key_file:
            with open(self.jwt_public_key_file, encoding="utf-8") as fh:
                return fh.read()
        return ""
