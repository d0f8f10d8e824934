"""The backends that ship with imgtui, registered with the service on import.

The service finds this package through the `imgtui.backends` entry point (pyproject.toml) or,
in a source checkout, by importing it by name: `imgtui.service` never imports it directly.
Each factory imports its backend when first called, so opening a local library does not load
httpx, and opening Cloudflare does not load SQLite.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from imgtui.service import registry
from imgtui.service.backend import Backend


def _local(*, root: Path, **options: Any) -> Backend:
    from .local import LocalBackend

    return LocalBackend(root, **options)


def _cloudflare(*, account_id: str | None = None, api_token: str | None = None, **options: Any) -> Backend:
    from .cloudflare import CloudflareBackend

    return CloudflareBackend.from_credentials(account_id, api_token, **options)


def _wrangler(*, root: Path, **options: Any) -> Backend:
    from .wrangler import WranglerBackend

    return WranglerBackend(root, **options)


def register_backends() -> None:
    """The entry point's target: (re)register the built-in factories."""
    registry.register("local", _local)
    registry.register("cloudflare", _cloudflare)
    registry.register("wrangler", _wrangler)


register_backends()
