"""Reading Cloudflare's answers: the `{result, success, errors, messages}` envelope and the
image record inside it. Anything that is not that shape is a NETWORK error, never a crash."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import ValidationError

from imgtui.service.errors import ErrorCode, ImagesError
from imgtui.service.models import ImageMetadata

# Cloudflare omits `uploaded` nowhere we know of, but the schema marks it optional.
_UNKNOWN_UPLOAD_TIME = datetime.fromtimestamp(0, UTC)


def host_and_port(url: httpx.URL) -> str:
    """`host` or `host:port` when the port is not the scheme's default (a local emulator)."""
    return f"{url.host}:{url.port}" if url.port else url.host


def _where(response: httpx.Response) -> str:
    return f"{response.request.method} {host_and_port(response.request.url)} -> HTTP {response.status_code}"


def unexpected(response: httpx.Response, what: str) -> ImagesError:
    return ImagesError(
        ErrorCode.NETWORK, f"Unexpected answer from the Images API ({_where(response)}): {what}"
    )


# Cloudflare's "who are you?" codes: a bad, expired or under-privileged token.
_AUTH_CODES = frozenset({ErrorCode.AUTHENTICATION, 9109})
AUTH_HINT = (
    "the API token was refused. Check CLOUDFLARE_API_TOKEN, and that the token is allowed"
    " to use Cloudflare Images (Images Read/Write) on this account"
)


def auth_error(response: httpx.Response, said: str | None = None) -> ImagesError:
    """10000 with a sentence saying what to check; never quotes the token (the server's
    text is kept, but it is the server's, not ours)."""
    prefix = f"{said}: " if said and said != "Authentication error" else ""
    return ImagesError(
        ErrorCode.AUTHENTICATION,
        f"Authentication error (HTTP {response.status_code}): {prefix}{AUTH_HINT}",
    )


def read_envelope(response: httpx.Response) -> dict[str, Any]:
    """The parsed envelope of a JSON answer (success or not)."""
    try:
        body = response.json()
    except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
        if response.status_code == 401:  # a proxy or gateway asking for credentials
            raise auth_error(response) from None
        kind = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
        hint = (
            "" if response.status_code >= 500 else "; is the endpoint the Images API, ending in /client/v4?"
        )
        raise unexpected(response, f"the body is not JSON ({kind}){hint}") from None
    if not isinstance(body, dict) or not isinstance(body.get("success"), bool):
        raise unexpected(response, "not a Cloudflare API envelope")
    return body


def envelope_error(response: httpx.Response, body: dict[str, Any]) -> ImagesError:
    """The first of `errors` as an ImagesError (Cloudflare puts the useful one first)."""
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        code, message = first.get("code"), first.get("message")
        if code in _AUTH_CODES or (response.status_code == 401 and not isinstance(code, bool)):
            return auth_error(response, message if isinstance(message, str) else None)
        if isinstance(code, int) and not isinstance(code, bool):
            return ImagesError(
                code, message if isinstance(message, str) and message else f"HTTP {response.status_code}"
            )
    if response.status_code == 401:
        return auth_error(response)
    return unexpected(response, "the request failed without an error code")


def error_code(response: httpx.Response) -> int | None:
    """The Cloudflare error code of a failed answer, if it has a readable one."""
    try:
        body = read_envelope(response)
    except ImagesError:
        return None
    if body["success"]:
        return None
    error = envelope_error(response, body)
    return None if error.code == ErrorCode.NETWORK else error.code


def result_of(response: httpx.Response) -> Any:
    """`result` of a successful answer; raises the envelope's error otherwise."""
    body = read_envelope(response)
    if not body["success"] or response.is_error:
        raise envelope_error(response, body)
    return body.get("result")


def parse_image(response: httpx.Response, record: Any) -> ImageMetadata:
    """An image record, tolerating missing optional fields and `metadata` for `meta`."""
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        raise unexpected(response, "the image record has no id")
    meta = record.get("meta", record.get("metadata"))
    fields = {
        "id": record["id"],
        "filename": record.get("filename"),
        "uploaded": record.get("uploaded") or _UNKNOWN_UPLOAD_TIME,
        "requireSignedURLs": bool(record.get("requireSignedURLs", False)),
        "meta": meta if isinstance(meta, dict) else None,
        "variants": record.get("variants") or [],
        "draft": bool(record.get("draft", False)),
        "creator": record.get("creator"),
    }
    try:
        return ImageMetadata.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise unexpected(response, f"invalid image field {field!r} ({first['msg']})") from None
