"""What a running emulator holds: the library it serves and the settings it answers with."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field

import httpx

from imgtui.backends.local import LocalBackend
from imgtui.service import Images
from imgtui.service.account import SigningKey
from imgtui.service.backend import ServedLibrary
from imgtui.service.config import SERVE_PORT, default_library_path
from imgtui.service.signing import CDN_PREFIX
from imgtui.service.urls import Resolver, resolve_host

from .faults import FaultSpec
from .guard import is_loopback
from .limits import ServeLimits
from .tokens import BatchTokens


@dataclass(frozen=True, slots=True)
class ServeSettings:
    library: pathlib.Path = field(default_factory=default_library_path)
    host: str = "127.0.0.1"
    port: int = SERVE_PORT
    api_token: str | None = field(default=None, repr=False)  # never shown
    signing_key: str | None = field(default=None, repr=False)  # None: the library's own key
    faults: FaultSpec | None = None
    public_url: str | None = None  # how clients reach us, when not http://host:port
    access_log: bool = False
    # May `url` uploads fetch private, loopback and link-local addresses? None: only when
    # bound to loopback (then only this machine can ask).
    allow_private_urls: bool | None = None
    limits: ServeLimits = field(default_factory=ServeLimits)  # connections and read deadlines
    # What `url` uploads resolve host names with (tests give a fake DNS).
    resolve: Resolver = field(default=resolve_host, repr=False, compare=False)

    @property
    def private_urls_allowed(self) -> bool:
        if self.allow_private_urls is not None:
            return self.allow_private_urls
        return is_loopback(self.host)


@dataclass(slots=True)
class EmulatorState:
    """Built in the server's event loop at startup (the library's workers belong to it)."""

    settings: ServeSettings
    images: Images
    library: ServedLibrary  # the same backend as `images`, seen through what serving needs
    base_url: str  # e.g. http://127.0.0.1:8790
    account_hash: str
    signing_key: str
    batch_tokens: BatchTokens = field(default_factory=BatchTokens)
    _ingest_client: httpx.AsyncClient | None = None

    @classmethod
    async def open(cls, settings: ServeSettings, base_url: str) -> EmulatorState:
        library = LocalBackend(settings.library, delivery_base=base_url + CDN_PREFIX)
        images = Images(library)
        try:
            account_hash = await library.account_hash()
            signing_key = settings.signing_key or await library.signing_key()
        except BaseException:
            await images.aclose()
            raise
        return cls(settings, images, library, base_url, account_hash, signing_key)

    async def signing_keys(self) -> list[SigningKey]:
        """The keys signed URLs verify with: the library's, `default` replaced by the key
        given on the command line (when one was)."""
        keys = await self.images.account.keys.list()
        override = self.settings.signing_key
        if override is None:
            return keys
        return [SigningKey(key.name, override) if key.name == "default" else key for key in keys]

    @property
    def api_url(self) -> str:
        return self.base_url + "/client/v4"

    def ingest_client(self) -> httpx.AsyncClient:
        """The client that fetches `url` uploads (its own: no credentials, no base URL)."""
        if self._ingest_client is None:
            self._ingest_client = httpx.AsyncClient(
                timeout=httpx.Timeout(10.0, connect=5.0),
                follow_redirects=False,  # by hand, each target checked (ingest.py)
                headers={"User-Agent": "imgtui-serve (url ingest)"},
            )
        return self._ingest_client

    async def aclose(self) -> None:
        try:
            if self._ingest_client is not None:
                await self._ingest_client.aclose()
        finally:
            await self.images.aclose()
