"""Sign-in throttling (登录限速): failed sign-ins are counted over a sliding window per (username,
client), per client and per username; past a limit the client is answered 429 with Retry-After
before its password is even checked. Nothing locks an account: a guesser at one address never
stops the real user signing in from another. The per-username limit (guessing spread over many
addresses) holds back only the clients that have already failed for that username.

Usernames are counted whether or not they exist, so the answers never tell which do. The
counts live in this process's memory (each gateway process counts on its own)."""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable

from yanxiu.kit.errors import DomainError


class SignInThrottled(DomainError):
    status = 429
    code = "sign_in_throttled"
    title_zh = "登录失败次数过多，请稍后重试"
    title_en = "Too many failed sign-ins, retry later"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"登录失败次数过多，请 {retry_after} 秒后重试",
            f"Too many failed sign-ins, retry in {retry_after} s",
            retry_after=retry_after,
        )


class FailureLog:
    """The times of the last `limit` failures of each key, within `window` seconds. Bounded in
    keys: past `max_keys` the key idle longest is forgotten."""

    def __init__(self, *, limit: int, window: float, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._times: OrderedDict[Hashable, deque[float]] = OrderedDict()

    def count(self, key: Hashable, now: float) -> int:
        times = self._times.get(key)
        if times is None:
            return 0
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._times[key]
            return 0
        return len(times)

    def wait(self, key: Hashable, now: float) -> float:
        """Seconds until this key may fail again (0 when it is under its limit)."""
        if self.count(key, now) < self.limit:
            return 0.0
        return self._times[key][0] + self.window - now

    def add(self, key: Hashable, now: float) -> None:
        times = self._times.get(key)
        if times is None:
            if len(self._times) >= self.max_keys:
                self._times.popitem(last=False)
            times = self._times[key] = deque(maxlen=self.limit)
        else:
            self._times.move_to_end(key)
        times.append(now)

    def clear(self, key: Hashable) -> None:
        self._times.pop(key, None)


class SignInThrottle:
    def __init__(
        self,
        *,
        per_client_and_user: int,
        per_client: int,
        per_user: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.pairs = FailureLog(limit=per_client_and_user, window=window)
        self.clients = FailureLog(limit=per_client, window=window)
        self.users = FailureLog(limit=per_user, window=window)

    def retry_after(self, username: str, client: str) -> int:
        """0 when this client may try this username now, else whole seconds to wait."""
        now = self.clock()
        pair = (username, client)
        waits = [self.pairs.wait(pair, now), self.clients.wait(client, now)]
        if self.pairs.count(pair, now):
            waits.append(self.users.wait(username, now))
        wait = max(waits)
        return max(1, math.ceil(wait)) if wait > 0 else 0

    def ensure_may_try(self, username: str, client: str) -> None:
        wait = self.retry_after(username, client)
        if wait:
            raise SignInThrottled(wait)

    def failed(self, username: str, client: str) -> None:
        now = self.clock()
        self.pairs.add((username, client), now)
        self.clients.add(client, now)
        self.users.add(username, now)

    def succeeded(self, username: str, client: str) -> None:
        """The right password from this client: its own failures for the username are forgiven
        (those of other clients, and the client's count across usernames, are not)."""
        self.pairs.clear((username, client))
