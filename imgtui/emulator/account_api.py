"""The account's endpoints under `/images/v1`: variants, config, batch tokens, stats, keys.

Shapes as Cloudflare answers them (https://developers.cloudflare.com/api/resources/images/subresources/v1/):
a variant is `{id, options: {fit, width, height, metadata}, neverRequireSignedURLs}`; the list
is `{variants: {<id>: variant}}`, one variant `{variant: ...}`. Every change goes through
`images.account`, so the emulator enforces exactly the library's rules.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from imgtui.service.account import SigningKey, Variant
from imgtui.service.errors import ErrorCode, ImagesError

from .jsonbody import parse_json
from .responses import fail, ok
from .state import EmulatorState

MAX_ACCOUNT_BODY_BYTES = 16 * 1024  # a variant or a setting is a few hundred bytes


async def _json_object(request: Request, what: str) -> dict[str, Any]:
    if request.headers.get("content-type", "").lower().startswith("multipart/"):
        raise ImagesError(ErrorCode.BAD_REQUEST, f"{what} must be JSON, not a form")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_ACCOUNT_BODY_BYTES:
            raise ImagesError(ErrorCode.TOO_LARGE, f"{what} is larger than {MAX_ACCOUNT_BODY_BYTES} bytes")
    body = parse_json(bytes(raw) or b"{}", what)
    if not isinstance(body, dict):
        raise ImagesError(ErrorCode.BAD_REQUEST, f"{what} must be a JSON object")
    return body


def variant_record(variant: Variant) -> dict[str, Any]:
    options = variant.options
    return {
        "id": variant.id,
        "options": {
            "fit": options.fit,
            "width": options.width,
            "height": options.height,
            "metadata": options.metadata,
        },
        "neverRequireSignedURLs": variant.never_require_signed_urls,
    }


def _flag(body: dict[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise ImagesError(ErrorCode.BAD_REQUEST, f"{name} must be true or false")
    return value


async def list_variants(request: Request, state: EmulatorState, segments: list[str]) -> Response:
    variants = await state.images.account.variants.list()
    return ok({"variants": {variant.id: variant_record(variant) for variant in variants}})


async def create_variant(request: Request, state: EmulatorState, segments: list[str]) -> Response:
    body = await _json_object(request, "The variant")
    if "id" not in body or "options" not in body:
        raise ImagesError(ErrorCode.BAD_REQUEST, "A variant needs an id and options")
    variant = await state.images.account.variants.create(
        body["id"], body["options"], never_require_signed_urls=bool(_flag(body, "neverRequireSignedURLs"))
    )
    return ok({"variant": variant_record(variant)})


async def get_variant(request: Request, state: EmulatorState, segments: list[str]) -> Response:
    variant = await state.images.account.variants.get(segments[2])
    if variant is None:
        return fail(ErrorCode.NOT_FOUND, "Variant not found")
    return ok({"variant": variant_record(variant)})


async def edit_variant(request: Request, state: EmulatorState, segments: list[str]) -> Response:
    body = await _json_object(request, "The variant")
    if "options" not in body:
        raise ImagesError(ErrorCode.BAD_REQUEST, "A variant edit needs options")
    variant = await state.images.account.variants.edit(
        segments[2], body["options"], never_require_signed_urls=_flag(body, "neverRequireSignedURLs")
    )
    return ok({"variant": variant_record(variant)})


async def delete_variant(request: Request, state: EmulatorState, segments: list[str]) -> Response:
    await state.images.account.variants.delete(segments[2])
    return ok({})


async def get_config(request: Request, state: EmulatorState, segments: list[str]) -> Response:
    settings = await state.images.account.settings.get()
    return ok({"flexible_variants": settings.flexible_variants})


async def update_config(request: Request, state: EmulatorState, segments: list[str]) -> Response:
    body = await _json_object(request, "The config")
    flexible = _flag(body, "flexible_variants")
    if flexible is None:
        raise ImagesError(ErrorCode.BAD_REQUEST, "Send flexible_variants: true or false")
    settings = await state.images.account.settings.update(flexible_variants=flexible)
    return ok({"flexible_variants": settings.flexible_variants})


async def batch_token(request: Request, state: EmulatorState, segments: list[str]) -> Response:
    token, expires_at = state.batch_tokens.issue()
    return ok({"token": token, "expiresAt": expires_at})


async def stats(request: Request, state: EmulatorState, segments: list[str]) -> Response:
    usage = await state.images.account.stats()
    return ok({"count": {"current": usage.current, "allowed": usage.allowed}})


def _keys_answer(keys: list[SigningKey]) -> Response:
    return ok({"keys": [{"name": key.name, "value": key.value} for key in keys]})


async def signing_keys(request: Request, state: EmulatorState, segments: list[str]) -> Response:
    return _keys_answer(await state.signing_keys())


async def create_signing_key(request: Request, state: EmulatorState, segments: list[str]) -> Response:
    await state.images.account.keys.create(segments[2])
    return _keys_answer(await state.signing_keys())


async def delete_signing_key(request: Request, state: EmulatorState, segments: list[str]) -> Response:
    await state.images.account.keys.delete(segments[2])
    return _keys_answer(await state.signing_keys())
