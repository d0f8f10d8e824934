"""`imgtui cp SRC DST`: copy images between libraries, resumable and never twice.

Bytes, filename, metadata, creator and the signed-URL flag are copied. Custom ids are kept;
Cloudflare-generated (UUID-shaped) ids cannot be given to an upload, so those images get new
ids in the destination and the pair goes into an `IdMap` (CSV or JSON) the moment it is made.
A re-run skips what the destination already holds: a custom id that exists there, or a mapped
id whose copy exists there. So an interrupted copy resumes where it stopped. An upload without
an id whose answer was lost (or whose process died) is journalled beside the map as pending;
it is looked for at the destination (copy_lost.py) before it is uploaded again. Drafts (a
direct creator upload still waiting for its file) have nothing to copy and are skipped.

No printing here: `copy_library` yields a `CopyEvent` per image and the caller shows them.
The source is read a page at a time (the next page is fetched while this one is copied) with
at most `jobs` images in flight, so memory stays flat whatever the library's size.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Literal

from imgtui.service import ErrorCode, ImageMetadata, Images, ImagesError
from imgtui.service.errors import signed_urls_with_custom_id
from imgtui.service.rules import (
    MAX_UPLOAD_BYTES,
    check_creator,
    check_custom_id,
    check_filename,
    check_metadata,
    is_custom_id,
)

from .catalogue_query import Query, matching_images, parse_query
from .copy_lost import DestClock, digest_off_loop, find_lost, fingerprint
from .copy_map import IdMap, Sent

__all__ = ["MAX_JOBS", "CopyEvent", "IdMap", "copy_library", "refusal"]

CopyAction = Literal["copy", "skip", "refuse", "fail"]
PAGE_SIZE = 100
MAX_JOBS = 64

# Failures after which the destination provably holds nothing of the upload: a refusal, or a
# local library's transaction that did not commit. Any other (a network failure, a 5xx, a
# timeout) may come after the image was stored.
_NOTHING_STORED = frozenset(
    {
        ErrorCode.BAD_REQUEST,
        ErrorCode.NOT_AUTHORIZED,
        ErrorCode.ALREADY_EXISTS,
        ErrorCode.SIGNED_URLS_WITH_CUSTOM_ID,
        ErrorCode.TOO_LARGE,
        ErrorCode.NOT_MULTIPART,
        ErrorCode.UNSUPPORTED_IMAGE,
        ErrorCode.AUTHENTICATION,
        ErrorCode.STORAGE,
    }
)


@dataclass(frozen=True, slots=True)
class CopyEvent:
    """What happened to one source image (or, in a dry run, what would)."""

    action: CopyAction
    source_id: str
    target_id: str | None  # the destination's id; None for a new id not yet assigned
    reason: str
    code: int | None = None  # the ImagesError code of a refusal or failure


def refusal(image: ImageMetadata) -> ImagesError | None:
    """Why Cloudflare would refuse this image as an upload, checked before sending."""
    try:
        if is_custom_id(image.id):
            check_custom_id(image.id)
            if image.require_signed_urls:
                raise signed_urls_with_custom_id()
        if image.filename is not None:
            check_filename(image.filename)
        if image.meta:
            check_metadata(image.meta)
        if image.creator is not None:
            check_creator(image.creator)
    except ImagesError as error:
        return error
    return None


class _Copier:
    def __init__(self, source: Images, dest: Images, id_map: IdMap, dry_run: bool) -> None:
        self.source = source
        self.dest = dest
        self.id_map = id_map
        self.dry_run = dry_run
        self._commits: set[asyncio.Task[CopyEvent]] = set()
        self._lookups = asyncio.Lock()  # one look for lost answers at a time: no image claimed twice
        self._looking: set[asyncio.Task[object] | None] = set()  # commits in `_lost`
        self._looking_grew = asyncio.Event()
        self.found_in_dry_run: dict[str, str] = {}  # what a dry run's look found (nothing recorded)
        self._clock = DestClock()  # learnt from the answers, for the look's window

    async def recover(self) -> None:
        """Before copying: look for the uploads a previous run left pending (see copy_lost)."""
        pending = self.id_map.pending
        if not pending:
            return
        found = await find_lost(self.dest, pending, taken=self.id_map.is_target)
        for old_id, new_id in found.items():
            if self.dry_run:
                self.found_in_dry_run[old_id] = new_id
            else:
                self.id_map.record(old_id, new_id)

    async def plan(self, image: ImageMetadata) -> CopyEvent:
        """copy (with the id it keeps, or None for a new one), skip or refuse."""
        if image.draft:
            return CopyEvent("skip", image.id, None, "draft: nothing uploaded yet")
        refused = refusal(image)
        if refused is not None:
            return CopyEvent("refuse", image.id, None, refused.message, refused.code)
        if is_custom_id(image.id):
            if await self.dest.hosted.image(image.id).details() is not None:
                return CopyEvent("skip", image.id, image.id, "already in the destination")
            return CopyEvent("copy", image.id, image.id, "same id")
        found = self.found_in_dry_run.get(image.id)
        if found is not None:
            return CopyEvent("skip", image.id, found, "already copied: found after a lost answer")
        mapped = self.id_map.get(image.id)
        if mapped is not None:
            if await self.dest.hosted.image(mapped).details() is not None:
                return CopyEvent("skip", image.id, mapped, "already copied (id map)")
            return CopyEvent("copy", image.id, None, f"new id: the mapped copy {mapped} is gone")
        if self.id_map.sent_of(image.id) is not None:
            return CopyEvent(
                "copy", image.id, None, "new id: an answer was lost and no copy is at the destination"
            )
        return CopyEvent("copy", image.id, None, "new id: a generated id cannot be reused")

    async def copy_one(self, image: ImageMetadata) -> CopyEvent:
        try:
            planned = await self.plan(image)
            if planned.action != "copy" or self.dry_run:
                return planned
            return await self._upload(image, planned.target_id)
        except ImagesError as error:
            return CopyEvent("fail", image.id, None, error.message, error.code)

    async def _upload(self, image: ImageMetadata, target_id: str | None) -> CopyEvent:
        data = await self.source.hosted.image(image.id).read()
        if data is None:
            return CopyEvent("fail", image.id, None, "gone from the source", ErrorCode.NOT_FOUND)
        if len(data) > MAX_UPLOAD_BYTES:
            return CopyEvent(
                "refuse", image.id, None, f"larger than {MAX_UPLOAD_BYTES} bytes", ErrorCode.TOO_LARGE
            )
        # Once sent, an upload runs to its answer and its map entry even when the copy is
        # cancelled (Ctrl-C, SIGTERM): cut short, the destination might hold an image the map
        # does not know, and a re-run would copy it a second time. `settle()` waits for these.
        commit = asyncio.ensure_future(self._commit(image, data, target_id))
        self._commits.add(commit)
        commit.add_done_callback(self._commits.discard)
        return await asyncio.shield(commit)

    async def settle(self) -> None:
        """Wait for the uploads already sent (see `_upload`)."""
        if self._commits:
            await asyncio.gather(*self._commits, return_exceptions=True)

    async def _quiet(self, in_flight: set[asyncio.Task[CopyEvent]]) -> None:
        """Until each of the uploads `in_flight` has its answer, or waits in `_lost` itself (it
        waits for us: waiting for it would never end). Uploads sent later are not waited for
        (a steady stream of them would postpone the look to the end of the copy)."""
        while others := [c for c in in_flight if c not in self._looking and not c.done()]:
            self._looking_grew.clear()
            grew = asyncio.ensure_future(self._looking_grew.wait())
            try:
                await asyncio.wait([*others, grew], return_when=asyncio.FIRST_COMPLETED)
            finally:
                grew.cancel()

    async def _commit(self, image: ImageMetadata, data: bytes, target_id: str | None) -> CopyEvent:
        if target_id is None:
            # Journalled before it leaves: if the answer never comes back (or this process
            # dies), the next run knows to look for it before sending it again.
            hashed = await digest_off_loop(data)
            earliest = self._clock.earliest(_now_ms())
            self.id_map.sent(image.id, Sent(earliest, hashed, fingerprint(image), image.filename))
        sent_ms = _now_ms()
        try:
            # No id: the REST client only repeats an upload Cloudflare did not process, so a
            # retry never makes a second image; a custom id cannot land twice (5409).
            stored = await self.dest.hosted.upload(
                data,
                id=target_id,
                filename=image.filename,
                require_signed_urls=image.require_signed_urls,
                metadata=image.meta,
                creator=image.creator,
            )
        except ImagesError as error:
            if target_id is not None:
                if error.code == ErrorCode.ALREADY_EXISTS:
                    return CopyEvent("skip", image.id, target_id, "already in the destination")
                raise
            if error.code in _NOTHING_STORED:
                self.id_map.unsent(image.id)
                raise
            return await self._lost(image, error)
        self._clock.learn(sent_ms, _now_ms(), stored)
        if target_id is None:
            self.id_map.record(image.id, stored.id)
        return CopyEvent("copy", image.id, stored.id, "copied" if target_id else "copied with a new id")

    async def _lost(self, image: ImageMetadata, error: ImagesError) -> CopyEvent:
        """The upload may or may not have been stored: look before anyone sends it again."""
        sent = self.id_map.sent_of(image.id)
        if sent is None:
            raise error
        lost_at = self._clock.latest(_now_ms())
        in_flight = set(self._commits)
        current = asyncio.current_task()
        self._looking.add(current)
        self._looking_grew.set()
        try:
            async with self._lookups:
                # The other uploads in flight first: once recorded, their copies are not
                # mistaken for this one's.
                await self._quiet(in_flight)
                try:
                    found = await find_lost(
                        self.dest, {image.id: sent}, taken=self.id_map.is_target, until_ms=lost_at
                    )
                    outcome = "not found at the destination now"
                except ImagesError as failure:
                    found, outcome = {}, f"could not look for it at the destination ({failure.message})"
        finally:
            self._looking.discard(current)
        if image.id in found:
            self.id_map.record(image.id, found[image.id])
            return CopyEvent(
                "copy", image.id, found[image.id], "copied: its answer was lost, found at the destination"
            )
        then = (
            "a re-run with this --map looks again"
            if self.id_map.path
            else "without --map a re-run cannot tell"
        )
        raise ImagesError(error.code, f"{error.message}; {outcome}; {then}")


def _now_ms() -> int:
    return int(time.time() * 1000)


async def _prefetched(
    found: AsyncGenerator[ImageMetadata, None], size: int
) -> AsyncGenerator[ImageMetadata, None]:
    """`found` read ahead by up to `size` images, so the next page is listed while this one is
    copied."""
    queue: asyncio.Queue[ImageMetadata | None] = asyncio.Queue(size)
    failed: list[Exception] = []

    async def fill() -> None:
        try:
            async for image in found:
                await queue.put(image)
        except Exception as error:  # a list page that failed: raised to the reader, in order
            failed.append(error)
        await queue.put(None)  # not reached when cancelled: nobody reads any more

    filler = asyncio.ensure_future(fill())
    try:
        while (image := await queue.get()) is not None:
            yield image
        if failed:
            raise failed[0]
    finally:
        filler.cancel()
        await asyncio.gather(filler, return_exceptions=True)
        await found.aclose()


async def copy_library(
    source: Images,
    dest: Images,
    *,
    id_map: IdMap | None = None,
    query: Query | None = None,
    jobs: int = 4,
    dry_run: bool = False,
    page_size: int = PAGE_SIZE,
) -> AsyncGenerator[CopyEvent, None]:
    """Copy every image of `source` (those `query` matches: the language of `ls --query`) into
    `dest`, yielding one event per image as it completes. A dry run plans without writing."""
    if not 1 <= jobs <= MAX_JOBS:
        raise ValueError(f"jobs must be from 1 to {MAX_JOBS}")
    copier = _Copier(source, dest, id_map if id_map is not None else IdMap(), dry_run)
    running: set[asyncio.Task[CopyEvent]] = set()
    size = max(page_size, jobs)
    found = _prefetched(matching_images(source, query or parse_query(""), page_size=size), size)
    try:
        await copier.recover()
        async for image in found:
            running.add(asyncio.ensure_future(copier.copy_one(image)))
            # At most `jobs` copies in flight (the next page is already being fetched).
            while len(running) >= jobs:
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    running.discard(task)
                    yield task.result()
        while running:
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                running.discard(task)
                yield task.result()
    finally:
        await found.aclose()
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
        await copier.settle()
        if not dry_run:
            await asyncio.to_thread(copier.id_map.save)
