"""Failed logins per client address: the account lock (flows/service/people.py) stops guessing
one account's password, not one address trying a few passwords on every account, nor the
password hashing an address can make the server spend on names that do not exist. After
`limit` failed logins within `window_s` from one address, its logins are refused until the
oldest of them is out of the window, before any password is checked.

In memory, per web process: a restart forgets it (the account locks are in the catalog and
stay). Behind a reverse proxy the address is the proxy's unless uvicorn is told to trust its
X-Forwarded-For (`--forwarded-allow-ips`)."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

FAILURES_PER_ADDRESS = 20  # in WINDOW_S from one address: enough for a few people behind a NAT
WINDOW_S = 600.0
MAX_ADDRESSES = 10_000  # remembered at once; the least recently failing is forgotten first


class LoginThrottle:
    def __init__(
        self,
        limit: int = FAILURES_PER_ADDRESS,
        window_s: float = WINDOW_S,
        *,
        max_addresses: int = MAX_ADDRESSES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_addresses = max_addresses
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()  # logins are checked in the thread pool

    def retry_after(self, address: str) -> int | None:
        """Seconds until `address` may try again, or None if it may now."""
        with self._lock:
            failures = self._recent(address)
            if failures is None or len(failures) < self.limit:
                return None
            return max(1, math.ceil(failures[0] + self.window_s - self._clock()))

    def failed(self, address: str) -> None:
        with self._lock:
            failures = self._recent(address) or deque()
            failures.append(self._clock())
            while len(failures) > self.limit:
                failures.popleft()
            self._failures[address] = failures
            self._failures.move_to_end(address)
            while len(self._failures) > self.max_addresses:
                self._failures.popitem(last=False)

    def _recent(self, address: str) -> deque[float] | None:
        failures = self._failures.get(address)
        if failures is None:
            return None
        horizon = self._clock() - self.window_s
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            del self._failures[address]
            return None
        return failures
