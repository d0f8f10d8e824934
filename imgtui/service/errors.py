"""The one exception type of the service, and the Cloudflare error codes it carries."""

from __future__ import annotations

from enum import IntEnum


class ErrorCode(IntEnum):
    """Cloudflare Images error codes (https://developers.cloudflare.com/api/resources/images/)."""

    BAD_REQUEST = 5400
    NOT_AUTHORIZED = 5403
    NOT_FOUND = 5404
    TIMEOUT = 5408
    ALREADY_EXISTS = 5409
    SIGNED_URLS_WITH_CUSTOM_ID = 5410
    TOO_LARGE = 5413
    NOT_MULTIPART = 5415
    UNSUPPORTED_IMAGE = 5455
    AUTHENTICATION = 10000
    # Not Cloudflare's: the client could not reach the API at all (connection refused,
    # timeout after retries, malformed answer). Kept outside Cloudflare's 5xxx range.
    NETWORK = 9000
    # Not Cloudflare's: the local library failed (disk full, corrupt database, I/O error).
    STORAGE = 9001


class ImagesError(Exception):
    """A failed Images operation, shaped like the binding's `ImagesError{code, message}`.

    The message must never contain a credential: backends build it from server answers
    and their own text only.
    """

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message)
        self.code = int(code)
        self.message = message

    def __str__(self) -> str:
        return f"ERROR {self.code}: {self.message}"

    def __repr__(self) -> str:
        return f"ImagesError(code={self.code}, message={self.message!r})"

    def __reduce__(self):  # picklable across processes despite the custom __init__
        return (type(self), (self.code, self.message))


def signed_urls_with_custom_id() -> ImagesError:
    """5410, raised by the facade and again by the local store (which sees generated ids)."""
    return ImagesError(
        ErrorCode.SIGNED_URLS_WITH_CUSTOM_ID, "Images with a custom ID cannot require signed URLs"
    )
