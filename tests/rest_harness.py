"""Run the REST client against `imgtui serve` over real loopback HTTP.

`rest_images(library_path)` starts the emulator on a background thread (port 0), yields an
`Images.cloudflare(...)` pointed at it, and shuts both down. The conformance suite
parametrizes its `images` fixture over local and REST with it.
"""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from imgtui.emulator import BackgroundEmulator, FaultSpec, ServeSettings
from imgtui.service import Images

ACCOUNT_ID = "0123456789abcdef0123456789abcdef"

# Retries in tests should not wait like they would against Cloudflare.
FAST_RETRIES: dict[str, Any] = {"backoff_base": 0.001, "backoff_cap": 0.01, "max_retry_after": 0.01}


def start_emulator(
    library_path: pathlib.Path | str,
    *,
    api_token: str | None = "test-token",
    faults: FaultSpec | str | None = None,
    signing_key: str | None = None,
) -> BackgroundEmulator:
    if isinstance(faults, str):
        faults = FaultSpec.parse(faults)
    settings = ServeSettings(
        library=pathlib.Path(library_path),
        host="127.0.0.1",
        port=0,
        api_token=api_token,
        signing_key=signing_key,
        faults=faults,
    )
    return BackgroundEmulator(settings).start()


@asynccontextmanager
async def rest_server_and_images(
    library_path: pathlib.Path | str,
    *,
    api_token: str = "test-token",
    faults: FaultSpec | str | None = None,
    signing_key: str | None = None,
    **client_options: Any,
) -> AsyncIterator[tuple[BackgroundEmulator, Images]]:
    """Like `rest_images`, also yielding the server (its URLs, state and fault counts)."""
    server = start_emulator(library_path, api_token=api_token, faults=faults, signing_key=signing_key)
    try:
        images = Images.cloudflare(
            ACCOUNT_ID, api_token, base_url=server.api_url, **{**FAST_RETRIES, **client_options}
        )
        try:
            yield server, images
        finally:
            await images.aclose()
    finally:
        server.stop()


@asynccontextmanager
async def rest_images(
    library_path: pathlib.Path | str,
    *,
    api_token: str = "test-token",
    faults: FaultSpec | str | None = None,
    **client_options: Any,
) -> AsyncIterator[Images]:
    async with rest_server_and_images(library_path, api_token=api_token, faults=faults, **client_options) as (
        _server,
        images,
    ):
        yield images
