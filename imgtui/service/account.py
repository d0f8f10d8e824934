"""`images.account`: the account's own objects (variants, signing keys, settings, usage).

Shaped after Cloudflare's account endpoints (https://developers.cloudflare.com/api/resources/images/):
`/v1/variants`, `/v1/keys`, `/v1/config`, `/v1/stats`. The facade checks every argument
against Cloudflare's rules, so each backend receives clean values (the conformance suite
runs the same calls against a local library and over REST).
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass
from typing import Literal, Protocol, get_args

from .errors import ErrorCode, ImagesError
from .rules import MAX_SIDE_PX

VariantFit = Literal["scale-down", "contain", "cover", "crop", "pad"]
MetadataHandling = Literal["keep", "copyright", "none"]
VARIANT_FITS: tuple[str, ...] = get_args(VariantFit)
METADATA_HANDLING: tuple[str, ...] = get_args(MetadataHandling)
# https://developers.cloudflare.com/images/manage-images/create-variants/: up to 100 variants;
# names are letters and digits (the schema's pattern, read as one or more characters).
MAX_VARIANTS = 100
MAX_VARIANT_ID_CHARS = 99
_VARIANT_ID = re.compile(r"^[A-Za-z0-9]+$")
PUBLIC_VARIANT = "public"  # every account has it; it cannot be deleted


@dataclass(frozen=True, slots=True)
class VariantOptions:
    """How a named variant resizes: fit into width x height, and what EXIF survives."""

    fit: VariantFit = "scale-down"
    width: int = MAX_SIDE_PX
    height: int = MAX_SIDE_PX
    metadata: MetadataHandling = "none"


@dataclass(frozen=True, slots=True)
class Variant:
    id: str
    options: VariantOptions
    never_require_signed_urls: bool = False


@dataclass(frozen=True, slots=True)
class SigningKey:
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Usage:
    """`/v1/stats`: images stored and the plan's allowance."""

    current: int
    allowed: int


@dataclass(frozen=True, slots=True)
class AccountSettings:
    """`/v1/config`: flexible variants (`/w=400,fit=cover`) are off until enabled, as on Cloudflare."""

    flexible_variants: bool = False


class AccountBackend(Protocol):
    """What a backend implements for `images.account` (values already checked)."""

    async def list_variants(self) -> list[Variant]: ...

    async def get_variant(self, variant_id: str) -> Variant | None: ...

    async def create_variant(self, variant: Variant) -> Variant: ...

    async def update_variant(
        self, variant_id: str, options: VariantOptions, never_require_signed_urls: bool | None
    ) -> Variant: ...

    async def delete_variant(self, variant_id: str) -> None: ...

    async def list_signing_keys(self) -> list[SigningKey]: ...

    async def create_signing_key(self, name: str) -> list[SigningKey]:
        """A new key `name` with a fresh value (an existing one gets a new value); all keys."""
        ...

    async def delete_signing_key(self, name: str) -> list[SigningKey]:
        """All keys left; deleting the last one makes a new `default`, as Cloudflare does."""
        ...

    async def get_settings(self) -> AccountSettings: ...

    async def update_settings(self, *, flexible_variants: bool) -> AccountSettings: ...

    async def usage(self) -> Usage: ...


# -- Cloudflare's rules -----------------------------------------------------------------------


def _bad(message: str) -> ImagesError:
    return ImagesError(ErrorCode.BAD_REQUEST, message)


def check_variant_id(variant_id: object) -> str:
    if (
        not isinstance(variant_id, str)
        or not 1 <= len(variant_id) <= MAX_VARIANT_ID_CHARS
        or not _VARIANT_ID.match(variant_id)
    ):
        raise _bad(f"A variant name must be 1 to {MAX_VARIANT_ID_CHARS} letters or digits")
    return variant_id


def check_key_name(name: object) -> str:
    """Signing key names follow the variant rule: letters and digits."""
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_VARIANT_ID_CHARS or not _VARIANT_ID.match(name):
        raise _bad(f"A signing key name must be 1 to {MAX_VARIANT_ID_CHARS} letters or digits")
    return name


def _side(name: str, value: object) -> int:
    # JSON numbers may arrive as floats (the SDKs' schema types them so): 320.0 is 320.
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise _bad(f"{name} must be a whole number of pixels")
    number = int(value)
    if not 1 <= number <= MAX_SIDE_PX:
        raise _bad(f"{name} must be between 1 and {MAX_SIDE_PX}")
    return number


def check_variant_options(options: object) -> VariantOptions:
    if isinstance(options, VariantOptions):
        fit, width, height, metadata = options.fit, options.width, options.height, options.metadata
    elif isinstance(options, dict):
        unknown = sorted(set(options) - {"fit", "width", "height", "metadata"})
        if unknown:
            raise _bad(f"Unknown variant option {unknown[0]!r}")
        missing = [name for name in ("fit", "width", "height", "metadata") if name not in options]
        if missing:
            raise _bad(f"Variant options need {', '.join(missing)}")
        fit, width, height, metadata = (options[name] for name in ("fit", "width", "height", "metadata"))
    else:
        raise _bad("Variant options must be an object with fit, width, height and metadata")
    if fit not in VARIANT_FITS:
        raise _bad(f"fit must be one of {', '.join(VARIANT_FITS)}")
    if metadata not in METADATA_HANDLING:
        raise _bad(f"metadata must be one of {', '.join(METADATA_HANDLING)}")
    return VariantOptions(
        fit=fit, width=_side("width", width), height=_side("height", height), metadata=metadata
    )


def _check_flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise _bad(f"{name} must be true or false")
    return value


# -- the facade parts ---------------------------------------------------------------------------


class AccountVariants:
    """`images.account.variants`: the account's named variants."""

    def __init__(self, backend: AccountBackend) -> None:
        self._backend = backend

    async def list(self) -> list[Variant]:
        return await self._backend.list_variants()

    async def get(self, variant_id: str) -> Variant | None:
        try:
            clean = check_variant_id(variant_id)
        except ImagesError:
            return None  # a name that cannot exist is simply not found
        return await self._backend.get_variant(clean)

    async def create(
        self,
        variant_id: str,
        options: VariantOptions | dict[str, object],
        *,
        never_require_signed_urls: bool = False,
    ) -> Variant:
        variant = Variant(
            id=check_variant_id(variant_id),
            options=check_variant_options(options),
            never_require_signed_urls=_check_flag("never_require_signed_urls", never_require_signed_urls),
        )
        return await self._backend.create_variant(variant)

    async def edit(
        self,
        variant_id: str,
        options: VariantOptions | dict[str, object],
        *,
        never_require_signed_urls: bool | None = None,
    ) -> Variant:
        """Replace the options (Cloudflare's PATCH requires them all); the flag only when given."""
        never = (
            None
            if never_require_signed_urls is None
            else _check_flag("never_require_signed_urls", never_require_signed_urls)
        )
        return await self._backend.update_variant(
            check_variant_id(variant_id), check_variant_options(options), never
        )

    async def delete(self, variant_id: str) -> None:
        """Raises 5404 when there is no such variant; `public` cannot be deleted (5400)."""
        clean = check_variant_id(variant_id)
        if clean == PUBLIC_VARIANT:
            raise _bad("The public variant cannot be deleted")
        await self._backend.delete_variant(clean)


class AccountKeys:
    """`images.account.keys`: the keys that sign delivery URLs."""

    def __init__(self, backend: AccountBackend) -> None:
        self._backend = backend

    async def list(self) -> list[SigningKey]:
        return await self._backend.list_signing_keys()

    async def create(self, name: str) -> builtins.list[SigningKey]:
        """`PUT /v1/keys/{name}`: a new key (or a new value for that name); all keys."""
        return await self._backend.create_signing_key(check_key_name(name))

    async def delete(self, name: str) -> builtins.list[SigningKey]:
        """`DELETE /v1/keys/{name}`: the URLs it signed stop verifying; all keys left."""
        return await self._backend.delete_signing_key(check_key_name(name))


class AccountSettingsPart:
    """`images.account.settings`: the account's image settings."""

    def __init__(self, backend: AccountBackend) -> None:
        self._backend = backend

    async def get(self) -> AccountSettings:
        return await self._backend.get_settings()

    async def update(self, *, flexible_variants: bool) -> AccountSettings:
        return await self._backend.update_settings(
            flexible_variants=_check_flag("flexible_variants", flexible_variants)
        )


class Account:
    """`images.account`: variants, signing keys, settings and usage of the library or account."""

    def __init__(self, backend: AccountBackend) -> None:
        self._backend = backend
        self.variants = AccountVariants(backend)
        self.keys = AccountKeys(backend)
        self.settings = AccountSettingsPart(backend)

    async def stats(self) -> Usage:
        return await self._backend.usage()


class UnsupportedAccount:
    """For a backend without account objects (say, a read-only view of another tool's store):
    every call fails with a message naming the library."""

    def __init__(self, label: str) -> None:
        self._label = label

    def _refuse(self) -> ImagesError:
        return _bad(f"{self._label} has no account variants, keys or settings")

    async def list_variants(self) -> list[Variant]:
        raise self._refuse()

    async def get_variant(self, variant_id: str) -> Variant | None:
        raise self._refuse()

    async def create_variant(self, variant: Variant) -> Variant:
        raise self._refuse()

    async def update_variant(
        self, variant_id: str, options: VariantOptions, never_require_signed_urls: bool | None
    ) -> Variant:
        raise self._refuse()

    async def delete_variant(self, variant_id: str) -> None:
        raise self._refuse()

    async def list_signing_keys(self) -> list[SigningKey]:
        raise self._refuse()

    async def create_signing_key(self, name: str) -> list[SigningKey]:
        raise self._refuse()

    async def delete_signing_key(self, name: str) -> list[SigningKey]:
        raise self._refuse()

    async def get_settings(self) -> AccountSettings:
        raise self._refuse()

    async def update_settings(self, *, flexible_variants: bool) -> AccountSettings:
        raise self._refuse()

    async def usage(self) -> Usage:
        raise self._refuse()
