"""Upload several files or URLs at once, a few in flight, each failure kept apart.

No Textual here: the upload form drives an `UploadQueue` from an async worker and turns its
events into progress bars. Files are read off the event loop by the service (Path sources);
URLs are fetched with httpx, streamed under the 10 MiB cap and sniffed before uploading, as
in Cloudflare's "ingest a remote image" example.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx

from imgtui.common.sizes import human_size
from imgtui.service import ErrorCode, ImageMetadata, Images, ImagesError
from imgtui.service.rules import MAX_BASE64_TEXT_BYTES, MAX_UPLOAD_BYTES
from imgtui.service.sniff import sniff_image_async
from imgtui.service.urls import Describe, Failure, FetchCodes, ProgressCallback, fetch_capped
from imgtui.service.urls import filename_from_url as url_filename
from imgtui.service.urls import is_http_url as is_http_url  # the upload form imports it from here
from imgtui.workflows.dropparse import is_base64_image_name
from imgtui.workflows.retry import is_transient as is_transient  # the upload form imports it from here

CONCURRENCY = 3  # a few at a time: faster than one by one, gentle on rate limits (1200 / 5 min)
FETCH_TIMEOUT = httpx.Timeout(20.0, connect=10.0)
_FETCH_CHUNK = 64 * 1024

# Sending the same file again gets the same answer: bad or unsupported image, too large, an id
# that exists, a custom id with signed URLs. The form offers no Retry for these.
PERMANENT_CODES = frozenset(
    {
        ErrorCode.BAD_REQUEST,
        ErrorCode.ALREADY_EXISTS,
        ErrorCode.SIGNED_URLS_WITH_CUSTOM_ID,
        ErrorCode.TOO_LARGE,
        ErrorCode.UNSUPPORTED_IMAGE,
    }
)


def can_retry(error: ImagesError) -> bool:
    return error.code not in PERMANENT_CODES


@dataclass(frozen=True, slots=True)
class UploadItem:
    """One thing to upload: a local file (`path`) or an http(s) URL (`url`)."""

    path: Path | None = None
    url: str | None = None
    size: int | None = None  # bytes on disk; None for URLs until fetched

    # What makes two items the same upload. Resolved once, where the item is made (files are
    # made in a thread by inspect_files): realpath walks the filesystem.
    key: str = field(init=False, default="")

    def __post_init__(self) -> None:
        key = self.url if self.url is not None else os.path.realpath(self.path or "")
        object.__setattr__(self, "key", key)

    @property
    def name(self) -> str:
        if self.path is not None:
            return self.path.name
        return self.url or ""

    @property
    def encoding(self) -> str | None:
        return "base64" if self.path is not None and is_base64_image_name(self.path) else None

    @property
    def default_filename(self) -> str:
        """The filename Cloudflare records unless the user types another one."""
        if self.url is not None:
            return filename_from_url(self.url)
        assert self.path is not None
        return self.path.stem if self.encoding else self.path.name


# A Cloudflare delivery URL ends in a variant name (`…/<hash>/<id>/public`), which says
# nothing of the image: https://developers.cloudflare.com/images/manage-images/serve-images/
def filename_from_url(url: str, extension: str | None = None, *, given: str | None = None) -> str:
    """The name the server `given` (Content-Disposition), else the service's name for the URL
    (for a delivery URL the image id's last segment, not the variant), with the type's
    extension when it has none; `image.<ext>` when there is none."""
    stem = given or url_filename(url)
    if stem is None:
        return f"image.{extension or 'jpg'}"
    return stem if "." in stem or not extension else f"{stem}.{extension}"


def _too_large(name: str, size: int, limit: int) -> str:
    return f"{name}: {human_size(size)}; Cloudflare takes at most {human_size(limit)}"


def inspect_files(paths: list[Path]) -> tuple[list[UploadItem], list[str]]:
    """Stat the files to queue; too large or unreadable ones become problems. Blocking."""
    items: list[UploadItem] = []
    problems: list[str] = []
    for path in paths:
        try:
            size = path.stat().st_size
        except OSError as exc:
            problems.append(f"{path.name}: {exc.strerror or exc}")
            continue
        item = UploadItem(path=path, size=size)
        limit = MAX_BASE64_TEXT_BYTES if item.encoding else MAX_UPLOAD_BYTES
        if size > limit:
            problems.append(_too_large(path.name, size, limit))
            continue
        items.append(item)
    return items, problems


@dataclass(frozen=True, slots=True)
class UploadOptions:
    """What the form's option fields say. `custom_id` and `filename` apply to one file only."""

    custom_id: str | None = None
    filename: str | None = None
    creator: str | None = None
    metadata: dict[str, Any] | None = None
    require_signed_urls: bool = False


Status = Literal["queued", "fetching", "uploading", "done", "failed", "skipped"]


@dataclass(slots=True)
class UploadOutcome:
    item: UploadItem
    status: Status = "queued"
    image: ImageMetadata | None = None
    error: ImagesError | None = None

    @property
    def retryable(self) -> bool:
        """Worth sending again: not sent (stopped), or failed in a way a new try may not."""
        if self.status == "skipped":
            return True
        return self.status == "failed" and self.error is not None and can_retry(self.error)


@dataclass(frozen=True, slots=True)
class UploadEvent:
    """A change the form shows: `index` into the items, the status at that moment (the
    outcome object keeps changing), and `done`/`total` bytes while fetching."""

    index: int
    status: Status
    outcome: UploadOutcome
    done: int | None = None
    total: int | None = None


# The origin may answer later: NETWORK keeps Retry on offer (5400 would not).
_FETCH_CODES = FetchCodes(unreachable=ErrorCode.NETWORK, overloaded=ErrorCode.NETWORK)


def _fetch_wording(url: str) -> Describe:
    def describe(failure: Failure, detail: str, error: httpx.HTTPError | None) -> str:
        if failure == "not_http":
            return f"Not an http(s) URL: {url}"
        if failure == "status":
            return f"Fetching {url} failed: HTTP {detail}"
        if failure == "too_large":
            if detail:
                return _too_large(url, int(detail), MAX_UPLOAD_BYTES)
            return f"{url}: more than {human_size(MAX_UPLOAD_BYTES)}; stopped"
        if failure == "timeout":
            return f"Fetching {url} timed out"
        return f"Fetching {url} failed: {error}"

    return describe


async def fetch_remote_image(
    url: str,
    *,
    client: httpx.AsyncClient,
    on_progress: ProgressCallback | None = None,
) -> tuple[bytes, str]:
    """The image at `url` (at most 10 MiB, must sniff as an image) and its filename."""
    fetched = await fetch_capped(
        client,
        url,
        cap=MAX_UPLOAD_BYTES,
        codes=_FETCH_CODES,
        describe=_fetch_wording(url),
        request_timeout=FETCH_TIMEOUT,
        chunk_size=_FETCH_CHUNK,
        on_progress=on_progress,
    )
    try:
        info = await sniff_image_async(fetched.data)  # a hostile animation: off the loop
    except ImagesError as exc:
        raise ImagesError(exc.code, f"{url} is not an image Cloudflare takes: {exc.message}") from None
    return fetched.data, filename_from_url(fetched.final_url, info.extension, given=fetched.filename)


class UploadQueue:
    """Upload `items` with at most `concurrency` in flight; `stop()` skips the ones not started.

    `on_event` is called on the event loop for every status change, in order per item.
    """

    def __init__(
        self,
        images: Images,
        items: list[UploadItem],
        options: UploadOptions,
        *,
        on_event: Callable[[UploadEvent], None] | None = None,
        concurrency: int = CONCURRENCY,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.images = images
        self.items = list(items)
        self.options = options
        self.outcomes = [UploadOutcome(item) for item in self.items]
        self._on_event = on_event
        self._concurrency = max(1, concurrency)
        self._http_client = http_client
        self._next = 0
        self._stopped = False

    @property
    def stopped(self) -> bool:
        return self._stopped

    def stop(self) -> None:
        """Send nothing new; uploads already in flight finish (their outcome is then known)."""
        self._stopped = True

    def _emit(self, index: int, done: int | None = None, total: int | None = None) -> None:
        if self._on_event is not None:
            self._on_event(UploadEvent(index, self.outcomes[index].status, self.outcomes[index], done, total))

    async def run(self) -> list[UploadOutcome]:
        own_client = self._http_client is None and any(item.url for item in self.items)
        client = httpx.AsyncClient() if own_client else self._http_client
        try:
            workers = min(self._concurrency, len(self.items))
            await asyncio.gather(*(self._worker(client) for _ in range(workers)))
        finally:
            if own_client and client is not None:
                await client.aclose()
        for index, outcome in enumerate(self.outcomes):
            if outcome.status == "queued":  # stopped before it started
                outcome.status = "skipped"
                self._emit(index)
        return self.outcomes

    async def _worker(self, client: httpx.AsyncClient | None) -> None:
        while not self._stopped and self._next < len(self.items):
            index = self._next
            self._next += 1
            await self._upload_one(index, client)

    async def _upload_one(self, index: int, client: httpx.AsyncClient | None) -> None:
        item, outcome, options = self.items[index], self.outcomes[index], self.options
        single = len(self.items) == 1
        try:
            source: Any = item.path
            filename = options.filename if single and options.filename else None
            if item.url is not None:
                assert client is not None
                outcome.status = "fetching"
                self._emit(index)
                source, fetched_name = await fetch_remote_image(
                    item.url, client=client, on_progress=lambda done, total: self._emit(index, done, total)
                )
                filename = filename or fetched_name
            elif item.encoding and filename is None:
                filename = item.default_filename
            outcome.status = "uploading"
            self._emit(index)
            outcome.image = await self.images.hosted.upload(
                source,
                id=options.custom_id if single and options.custom_id else None,
                filename=filename,
                require_signed_urls=options.require_signed_urls,
                metadata=options.metadata,
                creator=options.creator,
                encoding=item.encoding,
            )
            outcome.status = "done"
        except ImagesError as exc:
            outcome.status, outcome.error = "failed", exc
        except Exception as exc:  # a bug must not hide what the other files did
            outcome.status = "failed"
            outcome.error = ImagesError(
                ErrorCode.BAD_REQUEST, f"Unexpected error ({type(exc).__name__}): {exc}"
            )
        self._emit(index)


@dataclass(slots=True)
class UploadSummary:
    uploaded: list[ImageMetadata] = field(default_factory=list)
    failed: list[UploadOutcome] = field(default_factory=list)
    skipped: list[UploadOutcome] = field(default_factory=list)

    @classmethod
    def of(cls, outcomes: list[UploadOutcome]) -> UploadSummary:
        summary = cls()
        for outcome in outcomes:
            if outcome.status == "done" and outcome.image is not None:
                summary.uploaded.append(outcome.image)
            elif outcome.status == "failed":
                summary.failed.append(outcome)
            elif outcome.status == "skipped":
                summary.skipped.append(outcome)
        return summary

    def text(self) -> str:
        parts = [
            f"Uploaded {len(self.uploaded)} of {len(self.uploaded) + len(self.failed) + len(self.skipped)}"
        ]
        if self.failed:
            parts.append(f"{len(self.failed)} failed (see above)")
        if self.skipped:
            parts.append(f"{len(self.skipped)} not sent (stopped)")
        return "; ".join(parts) + "."
