"""The grid's thumbnails, from the cheapest honest source (no Textual here).

- A local library (its backend knows each stored file: `file_info` answers a FileInfo): the
  thumbnail is made once from the original and kept in a disk cache (thumbnail_cache.py),
  keyed by the backend, id, upload time and stored size, so a re-upload under the same id
  never shows the old picture.
- A Cloudflare account (or `imgtui serve` over REST): a small delivery variant when the
  account has one, a flexible `w=…,h=…` when flexible variants are on
  (https://developers.cloudflare.com/images/transform-images/flexible-variants/), else the
  smallest named variant at least as large as the box; the original only when nothing
  smaller exists. Delivery answers are fetched with the service's capped fetcher.

Fetching and decoding run off the event loop, a few at a time, lowest priority number first;
a cancelled `get()` that has not started yet never costs a fetch or a decode. Every failure
comes back as a `ThumbnailResult` with a short `problem` ("corrupt", "missing", "error 5404"),
never as an exception (CancelledError excepted).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar
from urllib.parse import quote

from PIL import Image

from imgtui.common.lru import ByteBudgetLRU
from imgtui.common.text import safe_text
from imgtui.service import ErrorCode, ImageMetadata, Images, ImagesError
from imgtui.service.account import PUBLIC_VARIANT, Variant
from imgtui.service.models import FileInfo
from imgtui.service.rules import MAX_SIDE_PX, MAX_UPLOAD_BYTES
from imgtui.service.sniff import looks_like_svg

from . import svg_raster
from .image_decode import RESAMPLE, Unpreviewable, decode_thumbnail, read_capped
from .priority_gate import PriorityGate
from .thumbnail_cache import DiskThumbnailCache, cache_key

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")

# Disk thumbnails are made at one of these squares (the smallest at least the box) and fitted
# to the exact box on the way out, so a resized grid still hits the cache.
BUCKETS_PX: tuple[int, ...] = (64, 128, 192, 256, 384, 512, 768, 1024)
MAX_BOX_PX = 4096  # a box past this is clamped: no terminal shows more
# Nothing stored is past Cloudflare's upload cap; twice it bounds the memory of FETCH_SLOTS
# downloads at once (a larger answer is cut off and shown as "too large").
MAX_FETCH_BYTES = 2 * MAX_UPLOAD_BYTES
FETCH_SLOTS = 6  # concurrent downloads: latency-bound, so more than the decode threads
DELIVERY_SECONDS = 15.0
DELIVERY_GIVE_UP = 3  # consecutive unreachable deliveries: then originals, no more waiting
MAX_NAME_CHARS = 40
SIGNED_URL_SECONDS = 300  # a signed URL made only to fetch a thumbnail now: short-lived
# Only these fits keep the whole picture (cover/crop cut it, pad adds bars).
_WHOLE_PICTURE_FITS = frozenset({"scale-down", "contain"})

Source = str  # "cache" | "original" | "variant:<name>" | "flexible:w=<n>"
Mode = Literal["unknown", "local", "delivery"]


@dataclass(frozen=True, slots=True)
class ThumbnailResult:
    """A thumbnail, or why there is none. Problems are a few plain words, safe to show:
    "missing", "corrupt", "too large", "too complex" (an SVG), "SVG refused", "SVG failed",
    "HEIC", "unknown format", "error <code>" (the service's error code), "closed",
    "failed: <ExceptionType>" (a bug)."""

    image: Image.Image | None  # RGB/RGBA, fits the requested box (never larger)
    problem: str | None  # short safe placeholder text when image is None
    source: Source

    @property
    def cost(self) -> int:
        if self.image is None:
            return 64 + len(self.problem or "")
        return self.image.width * self.image.height * len(self.image.getbands())


def clamp_box(box: tuple[int, int]) -> tuple[int, int]:
    return (min(MAX_BOX_PX, max(1, int(box[0]))), min(MAX_BOX_PX, max(1, int(box[1]))))


def bucket_for(box: tuple[int, int]) -> int | None:
    """The disk bucket (a square side) for `box`, or None when larger than every bucket."""
    side = max(box)
    return next((bucket for bucket in BUCKETS_PX if bucket >= side), None)


def fit(image: Image.Image, box: tuple[int, int]) -> Image.Image:
    """`image` fitting `box` (a copy when it must shrink; never enlarged)."""
    if image.width <= box[0] and image.height <= box[1]:
        return image
    fitted = image.copy()
    fitted.thumbnail(box, RESAMPLE)
    return fitted


def _problem_for(error: ImagesError) -> str:
    if error.code == ErrorCode.NOT_FOUND:
        return "missing"
    if error.code == ErrorCode.TOO_LARGE:
        return "too large"
    return f"error {error.code}"


def pick_variant(variants: list[Variant], box: tuple[int, int]) -> Variant | None:
    """The smallest named variant that keeps the whole picture, is at least `box` and is
    smaller than an original could be; None when no such variant exists."""
    fitting = [
        variant
        for variant in variants
        if variant.options.fit in _WHOLE_PICTURE_FITS
        and variant.options.width >= box[0]
        and variant.options.height >= box[1]
        and max(variant.options.width, variant.options.height) < MAX_SIDE_PX
    ]
    if not fitting:
        return None
    return min(fitting, key=lambda variant: (variant.options.width * variant.options.height, variant.id))


class Thumbnails:
    def __init__(
        self,
        images: Images,
        *,
        cache_dir: Path | None = None,
        disk_budget_bytes: int = 256 * 2**20,
        memory_budget_bytes: int = 64 * 2**20,
        threads: int = 2,
    ) -> None:
        self.images = images
        if cache_dir is None:
            from .cataloguing import cache_dir as default_cache_dir

            cache_dir = default_cache_dir() / "thumbnails"
        self.disk = DiskThumbnailCache(cache_dir, disk_budget_bytes, max_side_px=BUCKETS_PX[-1])
        self.memory: ByteBudgetLRU[tuple[str, str, tuple[int, int]], ThumbnailResult] = ByteBudgetLRU(
            memory_budget_bytes, lambda result: result.cost
        )
        self._pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="imgtui-thumbs")
        self._decode_gate = PriorityGate(max(1, threads))
        self._svg_gate = PriorityGate(1)  # one SVG at a time holds a pool thread (see _decode)
        self._fetch_gate = PriorityGate(FETCH_SLOTS)
        self._mode: Mode = "unknown"
        self._prepared = False
        self._prepare_lock = asyncio.Lock()
        self._mode_lock = asyncio.Lock()
        self._jobs: dict[tuple[str, str, tuple[int, int]], asyncio.Future[ThumbnailResult]] = {}
        self._waiters: dict[tuple[str, str, tuple[int, int]], int] = {}
        self._variants: list[Variant] = []
        self._flexible = False
        self._label = "thumbnails: originals"
        self._client: httpx.AsyncClient | None = None
        self._delivery_failures = 0
        self._closed = False

    # ----------------------------------------------------------------- public API

    @property
    def source_label(self) -> str:
        """For the status line: where the thumbnails come from."""
        return self._label

    def peek(self, image: ImageMetadata, box: tuple[int, int]) -> ThumbnailResult | None:
        """Synchronous memory-cache hit, or None (never blocks; lets a warm grid paint at once)."""
        return self.memory.get(_memory_key(image, clamp_box(box)))

    async def get(self, image: ImageMetadata, box: tuple[int, int], *, priority: int = 0) -> ThumbnailResult:
        """Fetch + decode off the event loop. Cancelling the awaiting task cancels queued work
        (a cell scrolled away never costs a decode); lower priority number = sooner."""
        box = clamp_box(box)
        key = _memory_key(image, box)
        known = self.memory.get(key)
        if known is not None:
            return known
        # The same picture asked for twice (a re-laid-out grid) is made once; the work goes on
        # while anyone still waits for it, and is cancelled when the last waiter is.
        while True:
            if self._closed:
                return ThumbnailResult(None, "closed", "original")
            job = self._jobs.get(key)
            if job is None:
                job = asyncio.ensure_future(self._outcome(image, box, priority))
                self._jobs[key] = job
                self._waiters[key] = 0
                job.add_done_callback(functools.partial(self._job_done, key, job))
            self._waiters[key] += 1
            try:
                return await asyncio.shield(job)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if job.cancelled() and task is not None and task.cancelling() == 0:
                    continue  # the shared job was cancelled, this waiter was not: ask again
                if self._jobs.get(key) is job:
                    self._waiters[key] -= 1
                    if self._waiters[key] <= 0:
                        # Gone from the table at once: a get() in the moment before the job
                        # ends starts a new one instead of inheriting its cancellation.
                        del self._jobs[key], self._waiters[key]
                        job.cancel()
                raise

    def _job_done(
        self, key: tuple[str, str, tuple[int, int]], job: asyncio.Future[ThumbnailResult], _: object = None
    ) -> None:
        if self._jobs.get(key) is job:
            del self._jobs[key], self._waiters[key]

    async def warm(self, image: ImageMetadata, box: tuple[int, int], *, priority: int = 0) -> bool:
        """Read `image`'s thumbnail for `box` from the disk cache into memory, when it is
        there: never an original's read, decode or download (the first call may ask for one
        image's record: the probe of which kind of backend this is, which `get` makes first
        anyway). True when memory holds it now. For the first screen of a grid not shown yet
        (a worker at idle), so that showing it paints from memory (`peek`)."""
        box = clamp_box(box)
        key = _memory_key(image, box)
        if self.memory.get(key) is not None:
            return True
        if self._closed:
            return False
        try:
            disk_key = await self._warm_key(image, box, priority)
            cached = await self._from_cache(disk_key, box, priority)
        except (ImagesError, RuntimeError):  # gone, a backend down, the pool shut: the grid asks later
            return False
        if cached is None or cached.image is None:
            return False
        self.memory.put(key, cached)
        return True

    async def _warm_key(self, image: ImageMetadata, box: tuple[int, int], priority: int) -> str | None:
        """The disk key `get` would read first for `image` (a local library: from its stored
        record's upload time and size)."""
        stored: tuple[ImageMetadata, FileInfo | None] | None = None
        if self._mode == "unknown":
            async with self._mode_lock:
                if self._mode == "unknown":
                    stored = await self._probe_mode(image, priority)
                    if stored is None:
                        return None
        if self._mode != "local":
            return self._disk_key(image, None, box)
        if stored is None:
            stored = await self._read_stored(image.id, priority)
        if stored is None:
            return None
        record, info = stored
        if info is not None and info.size > MAX_FETCH_BYTES:
            return None
        return self._disk_key(record, info.size if info is not None else None, box)

    def forget(self, image_id: str) -> None:
        """Drop what memory holds for `image_id` (after a delete; a re-upload has a new
        upload time, so it never meets the old entries anyway)."""
        self.forget_all([image_id])

    def forget_all(self, image_ids: Iterable[str]) -> None:
        """`forget` for many (a bulk delete): one walk of the memory cache, not one per id."""
        gone = set(image_ids)
        if gone:
            self.memory.discard_where(lambda key: key[0] in gone)

    async def _outcome(self, image: ImageMetadata, box: tuple[int, int], priority: int) -> ThumbnailResult:
        key = _memory_key(image, box)
        try:
            result = await self._make(image, box, priority)
        except Unpreviewable as exc:
            result = ThumbnailResult(None, exc.problem, "original")
            self.memory.put(key, result)  # a fact about these bytes: not tried again
            return result
        except ImagesError as exc:
            return ThumbnailResult(None, _problem_for(exc), "original")  # tried again next time
        except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:
            # Anything else is a bug somewhere: the cell says so, the grid goes on. The type
            # only: a foreign exception's text is not vetted for display.
            return ThumbnailResult(None, f"failed: {type(exc).__name__}", "original")
        if result.image is not None:
            self.memory.put(key, replace(result, source="cache"))
        return result

    async def prepare(self, *, again: bool = False) -> None:
        """Choose the source once: read the account's variants and flexible-variant setting
        (a backend without an account, or a failure, means originals). `again=True` reads
        them anew (after the account screen changed them)."""
        async with self._prepare_lock:
            if self._prepared and not again:
                return
            self._variants, self._flexible, self._delivery_failures = [], False, 0
            with contextlib.suppress(ImagesError):
                self._variants = [
                    v for v in await self.images.account.variants.list() if v.id != PUBLIC_VARIANT
                ]
            with contextlib.suppress(ImagesError):
                self._flexible = (await self.images.account.settings.get()).flexible_variants
            self._prepared = True

    async def aclose(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
        svg_raster.abort()  # a render in flight would hold the pool's thread, and the exit
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    # ----------------------------------------------------------------- the work

    async def _make(self, image: ImageMetadata, box: tuple[int, int], priority: int) -> ThumbnailResult:
        stored: tuple[ImageMetadata, FileInfo | None] | None = None
        if self._mode == "unknown":
            async with self._mode_lock:  # one probe, not one per cell of the first screen
                if self._mode == "unknown":
                    found = await self._probe_mode(image, priority)
                    if found is None:
                        return ThumbnailResult(None, "missing", "original")  # the next image decides
                    stored = found
        # Outside the lock: only the probe is serial, not the first picture's fetch and decode.
        if self._mode == "local":
            if stored is not None:
                return await self._from_stored(*stored, box, priority)
            return await self._make_local(image, box, priority)
        return await self._make_delivered(image, box, priority)

    async def _probe_mode(
        self, image: ImageMetadata, priority: int
    ) -> tuple[ImageMetadata, FileInfo | None] | None:
        """The first image tells which kind of backend this is: one that knows its stored files
        (a local library, where originals are cheap) or one that does not (over HTTP). None
        when the image is gone (the mode stays unknown)."""
        await self._fetch_gate.acquire(priority)
        try:
            found = await self.images.hosted.image(image.id).file_info()
        finally:
            self._fetch_gate.release()
        if found is None:
            return None
        if found[1] is None:
            self._mode = "delivery"
        else:
            self._mode, self._label = "local", "thumbnails: local cache"
        return found

    async def _read_stored(
        self, image_id: str, priority: int
    ) -> tuple[ImageMetadata, FileInfo | None] | None:
        """The image's fresh record and stored file facts (None: gone)."""
        await self._fetch_gate.acquire(priority)
        try:
            return await self.images.hosted.image(image_id).file_info()
        finally:
            self._fetch_gate.release()

    async def _make_local(self, image: ImageMetadata, box: tuple[int, int], priority: int) -> ThumbnailResult:
        found = await self._read_stored(image.id, priority)
        if found is None:
            return ThumbnailResult(None, "missing", "original")
        record, info = found  # the fresh record: its upload time, not a stale row's
        return await self._from_stored(record, info, box, priority)

    async def _from_stored(
        self, record: ImageMetadata, info: FileInfo | None, box: tuple[int, int], priority: int
    ) -> ThumbnailResult:
        if info is not None and info.size > MAX_FETCH_BYTES:
            return ThumbnailResult(None, "too large", "original")  # known before reading it
        key = self._disk_key(record, info.size if info is not None else None, box)
        return await self._from_original(record, box, priority, key)

    def _disk_key(self, record: ImageMetadata, size: int | None, box: tuple[int, int]) -> str | None:
        bucket = bucket_for(box)
        if bucket is None:
            return None
        return cache_key(self.images.cache_key, record.id, record.uploaded.isoformat(), size, bucket)

    async def _from_cache(
        self, key: str | None, box: tuple[int, int], priority: int
    ) -> ThumbnailResult | None:
        if key is None:
            return None
        cached = await self._blocking(priority, self._load_fitted, key, box)
        if isinstance(cached, str):
            return ThumbnailResult(None, cached, "cache")  # refused before, at a cost
        return None if cached is None else ThumbnailResult(cached, None, "cache")

    def _load_fitted(self, key: str, box: tuple[int, int]) -> Image.Image | str | None:
        image = self.disk.load(key)
        if image is None:
            return self.disk.refusal(key)
        return fit(image, box)

    async def _from_original(
        self, record: ImageMetadata, box: tuple[int, int], priority: int, key: str | None
    ) -> ThumbnailResult:
        cached = await self._from_cache(key, box, priority)
        if cached is not None:
            return cached
        data = await self._read_original(record.id, priority)
        if data is None:
            return ThumbnailResult(None, "missing", "original")
        image = await self._decode(priority, data, box, key)
        return ThumbnailResult(image, None, "original")

    def _decode_and_store(self, data: bytes, box: tuple[int, int], key: str | None) -> Image.Image:
        bucket = bucket_for(box)
        try:
            made = decode_thumbnail(data, (bucket, bucket) if bucket else box).image
        except Unpreviewable as refused:
            if key is not None and refused.problem in COSTLY_PROBLEMS:
                self.disk.refuse(key, refused.problem)
            raise
        if key is not None:
            self.disk.store(key, made)
        return fit(made, box)

    async def _make_delivered(
        self, image: ImageMetadata, box: tuple[int, int], priority: int
    ) -> ThumbnailResult:
        await self.prepare()
        key = self._disk_key(image, None, box)
        cached = await self._from_cache(key, box, priority)
        if cached is not None:
            return cached
        url: str | None = None
        source: Source = "original"
        if self._delivery_failures < DELIVERY_GIVE_UP:
            url, source = await self._delivery_url(image, box)
        if url is not None:
            try:
                data: bytes | None = await self._fetch_url(url, priority)
                self._delivery_failures = 0
            except ImagesError as error:
                data = None  # a variant that does not answer: the original still may
                if error.code == ErrorCode.NETWORK:
                    self._delivery_failures += 1  # unreachable: soon stop waiting on it
                    if self._delivery_failures >= DELIVERY_GIVE_UP:
                        self._label = "thumbnails: originals (delivery not reachable)"
            if data is not None:
                made = await self._decode(priority, data, box, key)
                return ThumbnailResult(made, None, source)
        return await self._from_original(image, box, priority, None if url is None else key)

    async def _delivery_url(self, image: ImageMetadata, box: tuple[int, int]) -> tuple[str | None, Source]:
        """The cheapest delivery URL for `box`, or (None, "original")."""
        if not image.variants:
            return None, "original"
        prefix = image.variants[0].rsplit("/", 1)[0]
        bucket = bucket_for(box) or max(box)
        if self._flexible and not image.require_signed_urls:
            # Cloudflare never serves flexible variants of private images.
            self._label = "thumbnails: flexible variants"
            return f"{prefix}/w={bucket},h={bucket},fit=scale-down", f"flexible:w={bucket}"
        variant = pick_variant(self._variants, (bucket, bucket)) or pick_variant(self._variants, box)
        if variant is None:
            self._label = "thumbnails: originals"
            return None, "original"
        # A variant's name comes from the backend: shown only as safe text, and cut short.
        name = safe_text(variant.id)[:MAX_NAME_CHARS]
        self._label = f"thumbnails: variant '{name}'"
        if image.require_signed_urls and not variant.never_require_signed_urls:
            try:
                url = await self.images.hosted.image(image.id).signed_url(
                    variant.id, expires_in=SIGNED_URL_SECONDS
                )
            except ImagesError:
                return None, "original"
            return url, f"variant:{name}"
        return f"{prefix}/{quote(variant.id, safe='')}", f"variant:{name}"

    async def _fetch_url(self, url: str, priority: int) -> bytes:
        from imgtui.service.urls import FetchCodes, fetch_capped

        codes = FetchCodes(unreachable=ErrorCode.NETWORK, overloaded=ErrorCode.NETWORK)
        await self._fetch_gate.acquire(priority)
        try:
            fetched = await fetch_capped(
                self._http(), url, cap=MAX_UPLOAD_BYTES, codes=codes, describe=_describe_fetch
            )
        finally:
            self._fetch_gate.release()
        return fetched.data

    def _http(self) -> httpx.AsyncClient:
        import httpx

        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(DELIVERY_SECONDS), follow_redirects=True)
        return self._client

    async def _read_original(self, image_id: str, priority: int) -> bytes | None:
        await self._fetch_gate.acquire(priority)
        try:
            stream = await self.images.hosted.image(image_id).bytes()
            if stream is None:
                return None
            return await read_capped(
                stream,
                MAX_FETCH_BYTES,
                lambda: Unpreviewable("No preview: the original is too large", "too large"),
            )
        finally:
            self._fetch_gate.release()

    async def _decode(self, priority: int, data: bytes, box: tuple[int, int], key: str | None) -> Image.Image:
        """Decode (and store) off the loop. SVG goes through its own single slot: all renders
        share one child, and a page of slow SVGs (up to the 8 s deadline each) must not take
        every decode slot from the raster cells."""
        gate = self._svg_gate if looks_like_svg(data) else self._decode_gate
        return await self._blocking(priority, self._decode_and_store, data, box, key, gate=gate)

    async def _blocking(
        self, priority: int, fn: Callable[..., T], *args: object, gate: PriorityGate | None = None
    ) -> T:
        """`fn(*args)` on the pool once a slot of `gate` (the decode slots by default) is free.
        The slot is given back when the thread is done (or the job is dropped before it
        starts), not when the awaiting task is cancelled: a running decode still occupies its
        core."""
        gate = gate or self._decode_gate
        await gate.acquire(priority)
        loop = asyncio.get_running_loop()

        def give_back(_: object) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(gate.release)

        try:
            job = self._pool.submit(fn, *args)
        except RuntimeError:  # the pool was shut down (aclose): the caller's cell says "closed"
            gate.release()
            raise
        job.add_done_callback(give_back)
        return await asyncio.wrap_future(job)


# Verdicts that took seconds (an SVG past its render deadline): kept on disk for the next session.
COSTLY_PROBLEMS = frozenset({"too complex"})


def _memory_key(image: ImageMetadata, box: tuple[int, int]) -> tuple[str, str, tuple[int, int]]:
    return (image.id, image.uploaded.isoformat(), box)


def _describe_fetch(failure: str, detail: str, error: object) -> str:
    if failure == "status":
        return f"delivery answered HTTP {detail}"
    if failure == "too_large":
        return "delivery answer too large"
    if failure == "timeout":
        return "delivery timed out"
    return "delivery not reachable"
