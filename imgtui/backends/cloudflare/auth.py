"""The API token as an `httpx.Auth`: the one place the secret lives in the client.

It is kept in a private slot and never appears in a repr, a str, an exception or a log line;
httpx itself masks the `Authorization` header in `Headers.__repr__`.
"""

from __future__ import annotations

from collections.abc import Generator

import httpx

from imgtui.service.errors import ErrorCode, ImagesError


def check_token(token: object) -> str:
    """A usable bearer token, or ImagesError 10000 that does not quote it."""
    if not isinstance(token, str) or not token:
        raise ImagesError(ErrorCode.AUTHENTICATION, "The API token is empty")
    # A header value must be visible ASCII; httpx would reject it too, but quote the value.
    if not all(0x21 <= ord(ch) <= 0x7E for ch in token):
        raise ImagesError(
            ErrorCode.AUTHENTICATION,
            "The API token contains spaces, line breaks or non-ASCII characters (check how it was pasted)",
        )
    return token


class BearerToken(httpx.Auth):
    """Adds `Authorization: Bearer <token>` to every request."""

    __slots__ = ("_token",)

    def __init__(self, token: str) -> None:
        self._token = check_token(token)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def __repr__(self) -> str:
        return "BearerToken(<hidden>)"

    __str__ = __repr__

    def __reduce__(self):  # never pickle the secret into another process or a cache
        raise TypeError("BearerToken cannot be pickled")
