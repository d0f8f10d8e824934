"""The overall time one call may take, retries, waits and body included.

httpx's read timeout restarts with every chunk, so a server that drips a byte every half
second is never "too slow" for it. The backend therefore runs each call under
`asyncio.timeout_at(deadline.at)` (https://docs.python.org/3/library/asyncio-task.html#timeouts),
and checks a retry's wait against what is left before sleeping.
"""

from __future__ import annotations

import asyncio
import math
import os
from dataclasses import dataclass

from imgtui.service.errors import ErrorCode, ImagesError

DEADLINE_ENV = "IMGTUI_CLOUDFLARE_DEADLINE"
# Long enough for a 10 MiB upload over a ~1 Mbit/s uplink plus the retry waits (backoff of at
# most 8 s, Retry-After of at most 30 s); short enough that a stuck server is an error.
DEFAULT_DEADLINE = 120.0


def resolve_deadline(seconds: float | None) -> float:
    """`seconds`, else $IMGTUI_CLOUDFLARE_DEADLINE, else the default; a finite number > 0."""
    source = "deadline"
    value: object = seconds
    if seconds is None:
        text = os.environ.get(DEADLINE_ENV, "").strip()
        if not text:
            return DEFAULT_DEADLINE
        source, value = DEADLINE_ENV, text
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number) or number <= 0:
        raise ImagesError(
            ErrorCode.BAD_REQUEST, f"{source} must be a number of seconds above 0, not {value!r}"
        )
    return number


@dataclass(frozen=True, slots=True)
class Deadline:
    seconds: float  # the whole budget, for messages
    at: float  # the event loop's clock when it runs out

    @classmethod
    def start(cls, seconds: float) -> Deadline:
        return cls(seconds, asyncio.get_running_loop().time() + seconds)

    def remaining(self) -> float:
        return self.at - asyncio.get_running_loop().time()
