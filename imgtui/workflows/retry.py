"""Safe reads tried again after a passing failure (a 500, a dropped connection), with backoff.

Only for reads: trying a GET again cannot change anything. The details panel uses it so a
transient error does not stay on screen until the cursor moves; `r` retries by hand.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from imgtui.service import ErrorCode, ImagesError

T = TypeVar("T")

_HTTP_RATE_LIMITED = 429


def is_transient(error: ImagesError) -> bool:
    """A failure that a later try may not meet: network, timeout, rate limit, server error."""
    code = error.code
    return code in (ErrorCode.NETWORK, ErrorCode.TIMEOUT, _HTTP_RATE_LIMITED) or 500 <= code <= 599


# Seconds to wait before each further try: 3 more tries within ~2 s, short enough that
# the panel answers while the user still looks at it.
READ_BACKOFF: tuple[float, ...] = (0.25, 0.6, 1.2)


async def retry_read(
    read: Callable[[], Awaitable[T]],
    *,
    backoff: Sequence[float] | None = None,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T:
    """`await read()`, again after each delay in `backoff` while it fails transiently; the
    last error (or any other error at once) is raised. Default backoff: READ_BACKOFF."""
    for delay in READ_BACKOFF if backoff is None else backoff:
        try:
            return await read()
        except ImagesError as error:
            if not is_transient(error):
                raise
        await sleep(delay)
    return await read()
