"""The REST API: `/client/v4/accounts/<any account>/images/...`, answered as Cloudflare does.

Routing reads the raw (still percent-encoded) path, because custom ids contain `/` and
arrive as one `%2F`-encoded segment that a decoded path would split.

Every write goes through the `Images` facade, so the emulator enforces exactly the rules
of the local library (validation, sniffing, limits).
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from imgtui.service.backend import UploadRequest
from imgtui.service.errors import ErrorCode, ImagesError
from imgtui.service.filters import parse_query_filter
from imgtui.service.rules import (
    MAX_LIST_LIMIT,
    MAX_METADATA_BYTES,
    MAX_UPLOAD_BYTES,
    check_filename,
    check_sort_order,
)
from imgtui.service.signing import UPLOAD_PREFIX
from imgtui.service.sniff import sniff_image
from imgtui.service.sources import load_image_bytes

from . import account_api
from .delivery import safety_headers
from .ingest import fetch_image, filename_from_url
from .jsonbody import MAX_JSON_DEPTH, parse_json, too_deep
from .limits import body_deadline_expired
from .responses import METHOD_NOT_ALLOWED, NO_ROUTE, fail, from_error, image_record, ok, raw_path
from .state import EmulatorState
from .tokens import bearer, matches

API_PREFIX = "/client/v4"
# Room for the form fields and multipart framing around a maximal file.
MAX_FORM_BYTES = MAX_UPLOAD_BYTES + 256 * 1024
MAX_PATCH_BYTES = 64 * 1024  # an update carries at most 1 KiB of metadata and two small fields
# A `metadata` field as sent, refused over this before it is parsed. The 1024-byte limit is on
# the compact UTF-8 JSON (checked later); the text sent may be longer: whitespace, and `\uXXXX`
# escapes (Python's `json.dumps` default) take up to 3x a character's UTF-8 bytes.
MAX_METADATA_TEXT_BYTES = 8 * MAX_METADATA_BYTES
# The schema's list bounds (https://developers.cloudflare.com/api/resources/images/subresources/v1/methods/list/).
MIN_PER_PAGE = 10
V1_DEFAULT_PER_PAGE = 1000
NOT_MULTIPART_MESSAGE = (
    "Images must be uploaded as a form, not as raw image data. Please use multipart/form-data format"
)

Handler = Callable[[Request, EmulatorState, list[str]], Awaitable[Response]]
# Paths under /v1 that are endpoints: a request there is never read as an image id.
RESERVED_V1_NAMES = frozenset({"stats", "keys", "batch_token", "config", "variants", "direct_upload"})


def _authorized(request: Request, state: EmulatorState, handler: Handler) -> bool:
    expected = state.settings.api_token
    if not expected:
        return True
    provided = bearer(request)
    if matches(provided, expected):
        return True
    return handler in BATCH_HANDLERS and state.batch_tokens.valid(provided)


async def api_endpoint(request: Request) -> Response:
    state: EmulatorState = request.app.state.emulator
    # /client/v4/accounts/<account>/images/<version>/<...>
    segments = [unquote(part) for part in raw_path(request).split("/")[6:]]
    while segments and segments[-1] == "":
        segments.pop()
    route = _route(request.method, segments)
    if not _authorized(request, state, route if not isinstance(route, Response) else _no_handler):
        return fail(ErrorCode.AUTHENTICATION, "Authentication error")
    if isinstance(route, Response):
        return route
    try:
        return await route(request, state, segments)
    except ImagesError as error:
        return from_error(error)
    except ClientDisconnect:
        if body_deadline_expired(request.scope):  # too slow: say so, and end the connection
            message = "The request body did not arrive in time"
            return fail(ErrorCode.TIMEOUT, message, status=408, headers={"Connection": "close"})
        # The client gave up mid-body: nothing was done, nobody to answer.
        return Response(status_code=400)


def _route(method: str, segments: list[str]) -> Handler | Response:
    """The handler for this path and method, or the error answer. Endpoint names come first:
    `/v1/variants` is the variants list, never the image with id `variants`."""
    methods = _methods(segments)
    if methods is None:
        return fail(NO_ROUTE, "No route for that URI", status=404)
    handler = methods.get(method)
    if handler is None:
        return fail(METHOD_NOT_ALLOWED, f"Method {method} not allowed here", status=405)
    return handler


def _methods(segments: list[str]) -> dict[str, Handler] | None:
    match segments:
        case ["v1"]:
            return {"GET": list_v1, "POST": upload}
        case ["v2"]:
            return {"GET": list_v2}
        case ["v2", "direct_upload"]:
            return {"POST": direct_upload}
        case ["v1", "stats"]:
            return {"GET": account_api.stats}
        case ["v1", "keys"]:
            return {"GET": account_api.signing_keys}
        case ["v1", "keys", name] if name:
            return {"PUT": account_api.create_signing_key, "DELETE": account_api.delete_signing_key}
        case ["v1", "batch_token"]:
            return {"GET": account_api.batch_token}
        case ["v1", "config"]:
            return {"GET": account_api.get_config, "PATCH": account_api.update_config}
        case ["v1", "variants"]:
            return {"GET": account_api.list_variants, "POST": account_api.create_variant}
        case ["v1", "variants", variant] if variant:
            return {
                "GET": account_api.get_variant,
                "PATCH": account_api.edit_variant,
                "DELETE": account_api.delete_variant,
            }
        case ["v1", name] if name and name not in RESERVED_V1_NAMES:
            return {"GET": details, "PATCH": update, "DELETE": delete}
        case ["v1", image_id, "blob"] if image_id:
            return {"GET": blob}
    return None


# -- upload -------------------------------------------------------------------------------


async def _capped(stream: AsyncIterator[bytes], cap: int) -> AsyncGenerator[bytes, None]:
    size = 0
    async for chunk in stream:
        size += len(chunk)
        if size > cap:
            what = "Image" if cap > MAX_PATCH_BYTES else "The request body"
            raise ImagesError(
                ErrorCode.TOO_LARGE, f"{what} is larger than {min(cap, MAX_UPLOAD_BYTES)} bytes"
            )
        yield chunk


async def _read_form(request: Request) -> FormData:
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise ImagesError(ErrorCode.NOT_MULTIPART, NOT_MULTIPART_MESSAGE)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise ImagesError(ErrorCode.TOO_LARGE, f"Image is larger than {MAX_UPLOAD_BYTES} bytes")
    parser = MultiPartParser(
        request.headers, _capped(request.stream(), MAX_FORM_BYTES), max_files=4, max_fields=256
    )
    try:
        return await parser.parse()
    except MultiPartException as exc:
        raise ImagesError(ErrorCode.BAD_REQUEST, f"Malformed multipart body: {exc.message}") from None


def _text_field(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if value is None or isinstance(value, str):
        return value
    raise ImagesError(ErrorCode.BAD_REQUEST, f"{name} must be a text field, not a file")


async def _metadata_field(form: FormData) -> dict[str, Any] | None:
    value = form.get("metadata")
    if isinstance(value, UploadFile):  # a part with Content-Type: application/json
        if value.size is not None and value.size > MAX_METADATA_TEXT_BYTES:
            raise _metadata_text_too_long()
        data = await value.read(MAX_METADATA_TEXT_BYTES + 1)
        if len(data) > MAX_METADATA_TEXT_BYTES:
            raise _metadata_text_too_long()
        value = data.decode("utf-8", "replace")
    if value is None:
        return _flattened_metadata(form)
    if len(value) > MAX_METADATA_TEXT_BYTES:  # characters: at least as many bytes
        raise _metadata_text_too_long()
    if not value.strip():
        raise ImagesError(ErrorCode.BAD_REQUEST, "metadata must not be empty")
    parsed = parse_json(value, "metadata")
    if not isinstance(parsed, dict):
        raise ImagesError(ErrorCode.BAD_REQUEST, "Metadata must be a JSON object")
    return parsed


def _metadata_text_too_long() -> ImagesError:
    return ImagesError(
        ErrorCode.BAD_REQUEST,
        f"metadata is over {MAX_METADATA_TEXT_BYTES} bytes as sent; at most {MAX_METADATA_BYTES} bytes "
        "of compact JSON are allowed",
    )


_FLAT_KEY = re.compile(r"^metadata(?:\.[^.\[\]]+|\[[^\[\]]+\])+$")
_FLAT_PART = re.compile(r"\.([^.\[\]]+)|\[([^\[\]]+)\]")


def _flattened_metadata(form: FormData) -> dict[str, Any] | None:
    """Metadata sent as one field per leaf: `metadata.a.b=1` (the official Python SDK) or
    `metadata[a][b]=1` (form-encoding clients). Leaves arrive as text, so they stay text."""
    metadata: dict[str, Any] = {}
    for key, value in form.multi_items():
        if not key.startswith("metadata") or not _FLAT_KEY.match(key) or not isinstance(value, str):
            continue
        path = [dotted or bracketed for dotted, bracketed in _FLAT_PART.findall(key[len("metadata") :])]
        if len(path) > MAX_JSON_DEPTH:  # the nested dict would not serialize again
            raise too_deep("metadata")
        node = metadata
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ImagesError(ErrorCode.BAD_REQUEST, f"Conflicting metadata fields at {key!r}")
            node = child
        if isinstance(node.get(path[-1]), dict):
            raise ImagesError(ErrorCode.BAD_REQUEST, f"Conflicting metadata fields at {key!r}")
        node[path[-1]] = value
    return metadata or None


def _bool_field(form: FormData, name: str) -> bool:
    value = _text_field(form, name)
    if value is None or value.strip().lower() in ("", "false", "0"):
        return False
    if value.strip().lower() in ("true", "1"):
        return True
    raise ImagesError(ErrorCode.BAD_REQUEST, f"{name} must be true or false")


async def upload(request: Request, state: EmulatorState, segments: list[str]) -> Response:
    form = await _read_form(request)
    try:
        file, url = form.get("file"), _text_field(form, "url")
        if (file is None) == (url is None):
            raise ImagesError(ErrorCode.BAD_REQUEST, "Send exactly one of a `file` part or a `url` field")
        if isinstance(file, str):
            raise ImagesError(ErrorCode.BAD_REQUEST, "file must be a file part (with a filename)")
        if file is not None:
            data, filename = await file.read(), file.filename or None
        else:
            assert url is not None
            settings = state.settings
            data, given = await fetch_image(
                state.ingest_client(),
                url,
                private_allowed=settings.private_urls_allowed,
                resolve=settings.resolve,
            )
            filename = given or filename_from_url(url)  # Content-Disposition, then the path
        image = await state.images.hosted.upload(
            data,
            id=_text_field(form, "id") or None,
            filename=filename,
            require_signed_urls=_bool_field(form, "requireSignedURLs"),
            metadata=await _metadata_field(form),
            creator=_text_field(form, "creator"),
        )
    finally:
        await form.close()
    return ok(image_record(image))


def _expiry_field(form: FormData) -> datetime | None:
    text = _text_field(form, "expiry")
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ImagesError(ErrorCode.BAD_REQUEST, "expiry must be an RFC 3339 date-time") from None


async def direct_upload(request: Request, state: EmulatorState, segments: list[str]) -> Response:
    """`POST /v2/direct_upload`: a draft and its one-time upload URL."""
    form = await _read_form(request)
    try:
        created = await state.images.hosted.create_direct_upload(
            id=_text_field(form, "id") or None,
            metadata=await _metadata_field(form),
            require_signed_urls=_bool_field(form, "requireSignedURLs"),
            creator=_text_field(form, "creator"),
            expiry=_expiry_field(form),
        )
    finally:
        await form.close()
    return ok({"id": created.id, "uploadURL": created.upload_url})


async def direct_upload_file(request: Request) -> Response:
    """`POST <uploadURL>`: the draft's file (multipart `file`), without the API token; once."""
    state: EmulatorState = request.app.state.emulator
    parts = raw_path(request)[len(UPLOAD_PREFIX) + 1 :].split("/")
    if len(parts) != 2 or parts[0] != state.account_hash:
        return fail(ErrorCode.NOT_FOUND, "Upload URL not found, or already used")
    try:
        form = await _read_form(request)
        try:
            file = form.get("file")
            if not isinstance(file, UploadFile):
                raise ImagesError(ErrorCode.BAD_REQUEST, "Send the image as a multipart `file` part")
            data, filename = await file.read(), file.filename or None
        finally:
            await form.close()
        if filename is not None:
            check_filename(filename)
        data = await load_image_bytes(data, None)  # the size limit
        info = await asyncio.to_thread(sniff_image, data)  # the type, as an upload's
        image = await state.library.complete_direct_upload(
            parts[1],
            UploadRequest(
                data=data,
                content_type=info.mime,
                id=None,
                filename=filename or f"image.{info.extension}",
                require_signed_urls=False,
                metadata=None,
                creator=None,
                width=info.width,
                height=info.height,
            ),
        )
    except ImagesError as error:
        return from_error(error)
    return ok(image_record(image))


# -- one image ----------------------------------------------------------------------------


async def details(request: Request, state: EmulatorState, segments: list[str]) -> Response:
    image = await state.images.hosted.image(segments[1]).details()
    if image is None:
        return fail(ErrorCode.NOT_FOUND, "Image not found")
    return ok(image_record(image))


async def blob(request: Request, state: EmulatorState, segments: list[str]) -> Response:
    found = await state.library.blob(segments[1])
    if found is None:
        return fail(ErrorCode.NOT_FOUND, "Image not found")
    return Response(found.data, media_type=found.content_type, headers=safety_headers(found.content_type))


async def update(request: Request, state: EmulatorState, segments: list[str]) -> Response:
    if request.headers.get("content-type", "").lower().startswith("multipart/"):
        raise ImagesError(ErrorCode.BAD_REQUEST, "The update body must be JSON, not a form")
    raw = b"".join([chunk async for chunk in _capped(request.stream(), MAX_PATCH_BYTES)])
    body = parse_json(raw or b"{}", "The update body")
    if not isinstance(body, dict):
        raise ImagesError(ErrorCode.BAD_REQUEST, "The update body must be a JSON object")
    image = await state.images.hosted.image(segments[1]).update(
        require_signed_urls=body.get("requireSignedURLs"),
        metadata=body.get("metadata"),
        creator=body.get("creator"),
    )
    return ok(image_record(image))


async def delete(request: Request, state: EmulatorState, segments: list[str]) -> Response:
    if not await state.images.hosted.image(segments[1]).delete():
        return fail(ErrorCode.NOT_FOUND, "Image not found")
    return ok({})


# -- collections --------------------------------------------------------------------------


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    try:
        real = float(value)  # the SDK sends numbers as floats ("20.0")
    except ValueError:
        raise ImagesError(ErrorCode.BAD_REQUEST, f"{name} must be a number") from None
    if not math.isfinite(real):  # 1e309 is inf: int() would raise OverflowError (a 500)
        raise ImagesError(ErrorCode.BAD_REQUEST, f"{name} must be between {low} and {high}")
    number = int(real)
    if not low <= number <= high:
        raise ImagesError(ErrorCode.BAD_REQUEST, f"{name} must be between {low} and {high}")
    return number


async def list_v1(request: Request, state: EmulatorState, segments: list[str]) -> Response:
    page = _int_param(request, "page", 1, 1, 1 << 31)
    per_page = _int_param(request, "per_page", V1_DEFAULT_PER_PAGE, MIN_PER_PAGE, MAX_LIST_LIMIT)
    images = await state.library.list_offset(
        offset=(page - 1) * per_page,
        limit=per_page,
        sort_order="asc",
        creator=request.query_params.get("creator"),
    )
    return ok(
        {"images": [image_record(image) for image in images]},
        result_info={"page": page, "per_page": per_page, "count": len(images)},
    )


async def list_v2(request: Request, state: EmulatorState, segments: list[str]) -> Response:
    per_page = _int_param(request, "per_page", 1000, MIN_PER_PAGE, MAX_LIST_LIMIT)
    sort_order = check_sort_order(request.query_params.get("sort_order") or "desc")
    page = await state.images.hosted.list(
        limit=per_page,
        cursor=request.query_params.get("continuation_token") or None,
        sort_order=sort_order,
        creator=request.query_params.get("creator"),
        metadata_filter=parse_query_filter(request.query_params.multi_items()),
    )
    return ok({"images": [image_record(image) for image in page.images], "continuation_token": page.cursor})


async def _no_handler(request: Request, state: EmulatorState, segments: list[str]) -> Response:
    raise AssertionError("never called: stands for a path with no handler")


# The calls a batch token authorizes (images-batch docs).
BATCH_HANDLERS: frozenset[Handler] = frozenset({upload, details, update, delete, list_v2, direct_upload})
