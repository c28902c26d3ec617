"""限流, shared: the token buckets in Redis, so that every gateway replica draws on one bucket
per caller (two gateways behind a load balancer must not each grant the whole rate).

One Lua script per request takes a token atomically: it refills the caller's bucket by the
time passed on the Redis server's clock (the gateways' clocks may disagree), takes a token if
there is one, and lets the key expire once the bucket would be full again, so idle callers
cost nothing. When Redis cannot be reached the gateway lets the request through and says so
in its log and in `yanxiu_rate_limit_unavailable_total`: a rate limit protects the platform,
and failing closed would take the whole platform down with the cache."""

from __future__ import annotations

import logging
import math

from prometheus_client import Counter
from redis.asyncio import Redis
from redis.exceptions import RedisError

from yanxiu.kit.faults import Throttled

log = logging.getLogger(__name__)

UNAVAILABLE = Counter(
    "yanxiu_rate_limit_unavailable_total",
    "Requests let through unlimited because the shared rate-limit store was unreachable",
    ["service"],
)

# KEYS[1] bucket; ARGV: rate (tokens/s), burst. Returns 0 when granted, else the wait in ms.
_TAKE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local held = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(held[1]) or burst
local at = tonumber(held[2]) or t
tokens = math.min(burst, tokens + math.max(0, t - at) * rate / 1000)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', t)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return wait
"""


class SharedTokenBuckets:
    """令牌桶 in Redis: each key refills at `rate` tokens a second up to `burst`."""

    def __init__(self, url: str, *, rate: float, burst: int, prefix: str = "yanxiu:rl:") -> None:
        self.redis = Redis.from_url(url, socket_timeout=0.25, socket_connect_timeout=0.25)
        self.rate = rate
        self.burst = burst
        self.prefix = prefix
        self._take = self.redis.register_script(_TAKE)
        self._outage = Throttled(log)

    async def take(self, key: str) -> float:
        """0.0 when granted, else the seconds until a token is available."""
        try:
            wait_ms = await self._take(keys=[self.prefix + key], args=[self.rate, self.burst])
        except (RedisError, OSError) as exc:
            UNAVAILABLE.labels("gateway").inc()
            self._outage.warning(
                "rate-limit store unreachable; letting requests through", extra={"error": repr(exc)}
            )
            return 0.0
        return math.ceil(int(wait_ms)) / 1000

    async def close(self) -> None:
        await self.redis.aclose()
