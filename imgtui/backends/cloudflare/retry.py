"""When and how long to wait before repeating a request.

Exponential backoff with full jitter (sleep uniformly in [0, min(cap, base * 2**attempt)])
spreads retrying clients apart; a server's `Retry-After` wins over it, up to a cap, so a
misbehaving server cannot park the app for minutes. A `Retry-After` longer than what is left
of the call's deadline is not waited at all (CloudflareBackend reports it at once).
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass

import httpx

# Answers that say "try again later". 500 is included: every request we repeat is either
# idempotent or guarded against duplicates (see CloudflareBackend.upload).
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = 3
    backoff_base: float = 0.25  # seconds; the first retry waits up to this
    backoff_cap: float = 8.0
    max_retry_after: float = 30.0  # never honour a longer Retry-After than this

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.backoff_base < 0 or self.backoff_cap < 0 or self.max_retry_after < 0:
            raise ValueError("retry settings must not be negative")

    def delay(self, attempt: int, response: httpx.Response | None, rng: random.Random) -> float:
        """Seconds to sleep before retry number `attempt` (0-based)."""
        if response is not None:
            after = retry_after_seconds(response)
            if after is not None:
                return min(after, self.max_retry_after)
        return rng.uniform(0.0, min(self.backoff_cap, self.backoff_base * (2**attempt)))


def retry_after_seconds(response: httpx.Response) -> float | None:
    """`Retry-After` as seconds (delta-seconds or an HTTP date), or None when absent/invalid."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
