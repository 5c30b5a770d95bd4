"""Failed sign-ins, counted by address and by the key's first characters, with an exponential back-off.

The first ``FREE_FAILURES`` failures within ``WINDOW_S`` cost nothing, so a typo is forgiven. Each failure
after them closes the sign-in for that address, or for keys starting the same way (however many addresses
guess them), for twice as long as the one before: 1 s, 2 s, 4 s ... up to ``MAX_WAIT_S``. While closed, the
form answers 429 with ``Retry-After`` and does not look at the key. A successful sign-in clears both counts.
Like the rate limit, the counts live in each process's memory.
"""

import threading
import time
from dataclasses import dataclass

FREE_FAILURES = 5
WINDOW_S = 15 * 60
MAX_WAIT_S = 15 * 60
PREFIX_CHARS = 12
MAX_TRACKED = 10_000


@dataclass
class _Failures:
    count: int
    last: float


class SignInGuard:
    """The failure counts of one process (see module docstring)."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._failures = {}
        self._lock = threading.Lock()

    @staticmethod
    def _buckets(address, key_text):
        buckets = ["addr:" + (address or "unknown")]
        if key_text:
            buckets.append("prefix:" + key_text[:PREFIX_CHARS])
        return buckets

    def _wait(self, failures, now):
        if now - failures.last > WINDOW_S or failures.count < FREE_FAILURES:
            return 0.0
        wait = min(MAX_WAIT_S, 2 ** (failures.count - FREE_FAILURES))
        return max(0.0, failures.last + wait - now)

    def wait_seconds(self, address, key_text):
        """Seconds before this address may try this key again (0: now)."""
        now = self._clock()
        with self._lock:
            found = [self._failures.get(bucket) for bucket in self._buckets(address, key_text)]
            return max([self._wait(failures, now) for failures in found if failures is not None], default=0.0)

    def failed(self, address, key_text):
        """Count one failed sign-in against the address and the key's first characters."""
        now = self._clock()
        with self._lock:
            if len(self._failures) >= MAX_TRACKED:
                self._forget_oldest()
            for bucket in self._buckets(address, key_text):
                failures = self._failures.get(bucket)
                if failures is None or now - failures.last > WINDOW_S:
                    failures = self._failures[bucket] = _Failures(0, now)
                failures.count += 1
                failures.last = now

    def succeeded(self, address, key_text):
        """Clear the counts a successful sign-in proves innocent."""
        with self._lock:
            for bucket in self._buckets(address, key_text):
                self._failures.pop(bucket, None)

    def _forget_oldest(self):
        for bucket, _ in sorted(self._failures.items(), key=lambda item: item[1].last)[: MAX_TRACKED // 10]:
            del self._failures[bucket]
