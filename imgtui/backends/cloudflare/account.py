"""`images.account` over Cloudflare's REST API: `/images/v1/variants`, `/v1/keys`,
`/v1/config` and `/v1/stats` (https://developers.cloudflare.com/api/resources/images/subresources/v1/).

Answers are checked through the same rules as arguments, so a malformed variant from a
server ends as an `ImagesError` naming the server, never as a half-built object.
"""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import quote

import httpx

from imgtui.service.account import (
    AccountSettings,
    SigningKey,
    Usage,
    Variant,
    VariantOptions,
    check_variant_id,
    check_variant_options,
)
from imgtui.service.errors import ImagesError

from .deadline import Deadline
from .envelope import error_code, result_of, unexpected


class _Outcome(Protocol):
    @property
    def response(self) -> httpx.Response: ...


class _Client(Protocol):
    """What the account needs of `CloudflareBackend` (a protocol: backend.py imports this module)."""

    @property
    def images_path(self) -> str: ...

    def new_deadline(self) -> Deadline: ...

    async def request(self, method: str, path: str, *, deadline: Deadline, **kwargs: Any) -> _Outcome: ...


def _options_body(options: VariantOptions) -> dict[str, Any]:
    return {
        "fit": options.fit,
        "width": options.width,
        "height": options.height,
        "metadata": options.metadata,
    }


def _parse_variant(response: httpx.Response, record: Any) -> Variant:
    if not isinstance(record, dict):
        raise unexpected(response, "a variant is not an object")
    try:
        never = record.get("neverRequireSignedURLs", False)
        return Variant(
            id=check_variant_id(record.get("id")),
            options=check_variant_options(record.get("options")),
            never_require_signed_urls=bool(never),
        )
    except ImagesError as exc:
        raise unexpected(response, f"a malformed variant ({exc.message})") from None


def _one_variant(response: httpx.Response) -> Variant:
    result = result_of(response)
    if not isinstance(result, dict):
        raise unexpected(response, "the answer has no variant")
    return _parse_variant(response, result.get("variant"))


class CloudflareAccount:
    """The account part of one `CloudflareBackend` (its client, retries and deadlines)."""

    def __init__(self, backend: _Client) -> None:
        self._backend = backend

    async def _call(self, method: str, suffix: str, **kwargs: Any) -> httpx.Response:
        path = f"{self._backend.images_path}/v1/{suffix}"
        outcome = await self._backend.request(method, path, deadline=self._backend.new_deadline(), **kwargs)
        return outcome.response

    @staticmethod
    def _variant_path(variant_id: str) -> str:
        return "variants/" + quote(variant_id, safe="")

    async def list_variants(self) -> list[Variant]:
        response = await self._call("GET", "variants")
        result = result_of(response)
        variants = result.get("variants") if isinstance(result, dict) else None
        if not isinstance(variants, dict):
            raise unexpected(response, "the variants answer has no variants object")
        return sorted((_parse_variant(response, record) for record in variants.values()), key=lambda v: v.id)

    async def get_variant(self, variant_id: str) -> Variant | None:
        response = await self._call("GET", self._variant_path(variant_id))
        if response.status_code == 404 and error_code(response) is not None:
            return None
        return _one_variant(response)

    async def create_variant(self, variant: Variant) -> Variant:
        body = {
            "id": variant.id,
            "options": _options_body(variant.options),
            "neverRequireSignedURLs": variant.never_require_signed_urls,
        }
        return _one_variant(await self._call("POST", "variants", json=body))

    async def update_variant(
        self, variant_id: str, options: VariantOptions, never_require_signed_urls: bool | None
    ) -> Variant:
        body: dict[str, Any] = {"options": _options_body(options)}
        if never_require_signed_urls is not None:
            body["neverRequireSignedURLs"] = never_require_signed_urls
        return _one_variant(await self._call("PATCH", self._variant_path(variant_id), json=body))

    async def delete_variant(self, variant_id: str) -> None:
        result_of(await self._call("DELETE", self._variant_path(variant_id)))

    async def list_signing_keys(self) -> list[SigningKey]:
        return self._keys(await self._call("GET", "keys"))

    async def create_signing_key(self, name: str) -> list[SigningKey]:
        return self._keys(await self._call("PUT", "keys/" + quote(name, safe="")))

    async def delete_signing_key(self, name: str) -> list[SigningKey]:
        return self._keys(await self._call("DELETE", "keys/" + quote(name, safe="")))

    def _keys(self, response: httpx.Response) -> list[SigningKey]:
        result = result_of(response)
        keys = result.get("keys") if isinstance(result, dict) else None
        if not isinstance(keys, list):
            raise unexpected(response, "the signing keys answer has no keys array")
        found = []
        for key in keys:
            if (
                not isinstance(key, dict)
                or not isinstance(key.get("name"), str)
                or not isinstance(key.get("value"), str)
            ):
                raise unexpected(response, "a signing key is not {name, value}")
            found.append(SigningKey(key["name"], key["value"]))
        return found

    def _settings(self, response: httpx.Response) -> AccountSettings:
        result = result_of(response)
        flexible = result.get("flexible_variants") if isinstance(result, dict) else None
        if not isinstance(flexible, bool):
            raise unexpected(response, "the config answer has no flexible_variants flag")
        return AccountSettings(flexible_variants=flexible)

    async def get_settings(self) -> AccountSettings:
        return self._settings(await self._call("GET", "config"))

    async def update_settings(self, *, flexible_variants: bool) -> AccountSettings:
        return self._settings(
            await self._call("PATCH", "config", json={"flexible_variants": flexible_variants})
        )

    async def usage(self) -> Usage:
        response = await self._call("GET", "stats")
        result = result_of(response)
        count = result.get("count") if isinstance(result, dict) else None
        if not isinstance(count, dict):
            raise unexpected(response, "the stats answer has no count")
        current, allowed = count.get("current"), count.get("allowed")
        if not all(isinstance(n, int | float) and not isinstance(n, bool) for n in (current, allowed)):
            raise unexpected(response, "the stats count is not numbers")
        assert isinstance(current, int | float) and isinstance(allowed, int | float)
        return Usage(current=int(current), allowed=int(allowed))


__all__ = ["CloudflareAccount"]
