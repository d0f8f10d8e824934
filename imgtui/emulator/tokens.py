"""Tokens: the configured API token, batch tokens (`GET /images/v1/batch_token`), and
`GET /user/tokens/verify`, answered as Cloudflare answers them.

Batch tokens (https://developers.cloudflare.com/images/storage/upload-images/images-batch/)
authorize the calls the docs list (upload, details, update, delete, list v2, direct upload);
Cloudflare serves them on another host, imgtui serve on its own.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .responses import fail

BATCH_TOKEN_SECONDS = 3600  # not documented; Cloudflare's example shows only an expiresAt
MAX_BATCH_TOKENS = 1000  # the oldest are forgotten past this, so asking cannot grow memory
INVALID_TOKEN = 1000  # Cloudflare's code for a token that does not verify


def bearer(request: Request) -> str | None:
    scheme, _, provided = request.headers.get("authorization", "").partition(" ")
    return provided.strip() if scheme.lower() == "bearer" and provided.strip() else None


def matches(provided: str | None, expected: str) -> bool:
    # compare_digest: the time taken does not reveal how much of the token matched.
    return provided is not None and hmac.compare_digest(provided.encode(), expected.encode())


class BatchTokens:
    """The batch tokens this server issued, each valid until its expiry."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self) -> tuple[str, str]:
        """A new token and its expiry as RFC 3339 text."""
        token = secrets.token_urlsafe(32)
        expires = self._clock() + BATCH_TOKEN_SECONDS
        with self._lock:
            if len(self._expiry) >= MAX_BATCH_TOKENS:
                del self._expiry[next(iter(self._expiry))]
            self._expiry[token] = expires
        stamp = datetime.fromtimestamp(expires, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return token, stamp

    def valid(self, provided: str | None) -> bool:
        if provided is None:
            return False
        with self._lock:
            found = [expiry for token, expiry in self._expiry.items() if matches(provided, token)]
        return bool(found) and self._clock() < found[0]


async def verify_token(request: Request) -> Response:
    """`GET /user/tokens/verify`: the configured token is valid and active; anything else is
    Cloudflare's 1000 "Invalid API Token". Without a configured token every token is valid."""
    expected = request.app.state.emulator.settings.api_token
    provided = bearer(request)
    if provided is None or (expected and not matches(provided, expected)):
        return fail(INVALID_TOKEN, "Invalid API Token", status=401)
    return JSONResponse(
        {
            "result": {"id": "imgtui-serve-token", "status": "active"},
            "success": True,
            "errors": [],
            "messages": [{"code": 10000, "message": "This API Token is valid and active", "type": None}],
        }
    )
