"""Cloudflare's answer shapes: the `{result, success, errors, messages}` envelope, the HTTP
status that goes with each error code, and the image record as the API writes it."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from imgtui.service.errors import ErrorCode, ImagesError
from imgtui.service.models import ImageMetadata

# HTTP status per Images error code (reference section 2); unknown codes answer 400.
STATUS_BY_CODE: dict[int, int] = {
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.NOT_AUTHORIZED: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.TIMEOUT: 408,
    ErrorCode.ALREADY_EXISTS: 409,
    ErrorCode.SIGNED_URLS_WITH_CUSTOM_ID: 400,
    ErrorCode.TOO_LARGE: 413,
    ErrorCode.NOT_MULTIPART: 415,
    ErrorCode.UNSUPPORTED_IMAGE: 415,
    ErrorCode.AUTHENTICATION: 401,
    ErrorCode.NETWORK: 502,
    ErrorCode.STORAGE: 500,
}

# Cloudflare's generic API codes for routing and throttling.
NO_ROUTE = 7000
METHOD_NOT_ALLOWED = 7001
RATE_LIMITED = 971
INTERNAL_ERROR = 10001
# Refusals of requests a web page made through the user's browser (see guard.py).
HOST_NOT_SERVED = 7003  # Cloudflare's "could not route" family: this is not the Host we serve
CROSS_SITE_REFUSED = int(ErrorCode.NOT_AUTHORIZED)


def ok(result: Any, *, status: int = 200, **extra: Any) -> JSONResponse:
    return JSONResponse({"result": result, "success": True, "errors": [], "messages": [], **extra}, status)


def fail(
    code: int, message: str, *, status: int | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {
        "result": None,
        "success": False,
        "errors": [{"code": int(code), "message": message}],
        "messages": [],
    }
    return JSONResponse(body, status or STATUS_BY_CODE.get(int(code), 400), headers=headers)


def from_error(error: ImagesError) -> JSONResponse:
    return fail(error.code, error.message)


def image_record(image: ImageMetadata) -> dict[str, Any]:
    """The image as Cloudflare serializes it: `meta`, `requireSignedURLs`, `uploaded` with Z;
    absent optional fields are left out, and `draft` only appears when true."""
    record = image.model_dump(mode="json", by_alias=True, exclude_none=True)
    if not record.get("draft"):
        record.pop("draft", None)
    return record


def raw_path(request: Request) -> str:
    """The path as the client sent it (still percent-encoded: ids may contain `/` or `%`)."""
    raw = request.scope.get("raw_path")
    return raw.decode("latin-1") if raw else request.url.path
