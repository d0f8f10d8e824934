"""`imgtui cp SRC DST`: copy images between libraries, resumable and never twice.

Bytes, filename, metadata, creator and the signed-URL flag are copied. Custom ids are kept;
Cloudflare-generated (UUID-shaped) ids cannot be given to an upload, so those images get new
ids in the destination and the pair goes into an `IdMap` (CSV or JSON) the moment it is made.
A re-run skips what the destination already holds: a custom id that exists there, or a mapped
id whose copy exists there. So an interrupted copy resumes where it stopped.

No printing here: `copy_library` yields a `CopyEvent` per image and the caller shows them.
The source is read a page at a time (the next page is fetched while this one is copied) with
at most `jobs` images in flight, so memory stays flat whatever the library's size.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import tempfile
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from pathlib import Path
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

from .query import Query, matching_images

CopyAction = Literal["copy", "skip", "refuse", "fail"]
PAGE_SIZE = 100
MAX_JOBS = 64
_JSON_SAVE_EVERY_S = 1.0  # a JSON map is rewritten whole: at most this often, and at close


@dataclass(frozen=True, slots=True)
class CopyEvent:
    """What happened to one source image (or, in a dry run, what would)."""

    action: CopyAction
    source_id: str
    target_id: str | None  # the destination's id; None for a new id not yet assigned
    reason: str
    code: int | None = None  # the ImagesError code of a refusal or failure


class IdMap:
    """Old id -> new id of the images that got new ids. CSV (`old_id,new_id`, appended and
    flushed per image) unless the path ends in `.json` (an object, rewritten atomically)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._ids: dict[str, str] = {}
        self._json = path is not None and path.suffix.lower() == ".json"
        self._dirty = False
        self._saved_at = 0.0
        if path is not None and path.exists():
            self._ids = _read_map(path, as_json=self._json)

    def get(self, old_id: str) -> str | None:
        return self._ids.get(old_id)

    def __len__(self) -> int:
        return len(self._ids)

    def record(self, old_id: str, new_id: str) -> None:
        self._ids[old_id] = new_id
        if self.path is None:
            return
        if self._json:
            self._dirty = True
            if time.monotonic() - self._saved_at >= _JSON_SAVE_EVERY_S:
                self.save()
            return
        new_file = not self.path.exists() or self.path.stat().st_size == 0
        with self.path.open("a", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            if new_file:
                writer.writerow(["old_id", "new_id"])
            writer.writerow([old_id, new_id])

    def save(self) -> None:
        """Write a JSON map now (a CSV map is always up to date)."""
        if self.path is None or not self._json or not self._dirty:
            return
        fd, temp = tempfile.mkstemp(prefix=".imgtui-map-", dir=self.path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(self._ids, out, indent=1, ensure_ascii=True)
        os.replace(temp, self.path)
        self._dirty = False
        self._saved_at = time.monotonic()


def _read_map(path: Path, *, as_json: bool) -> dict[str, str]:
    """ValueError names the file when it is not a map."""
    text = path.read_text(encoding="utf-8")
    if as_json:
        try:
            data = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not JSON ({exc})") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise ValueError(f"{path}: expected a JSON object of old id -> new id")
        return data
    ids = {}
    for row in csv.reader(text.splitlines()):
        if not row or row == ["old_id", "new_id"]:
            continue
        if len(row) != 2:
            raise ValueError(f"{path}: expected CSV rows of old_id,new_id, got {row!r}")
        ids[row[0]] = row[1]
    return ids


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

    async def plan(self, image: ImageMetadata) -> CopyEvent:
        """copy (with the id it keeps, or None for a new one), skip or refuse."""
        refused = refusal(image)
        if refused is not None:
            return CopyEvent("refuse", image.id, None, refused.message, refused.code)
        if is_custom_id(image.id):
            if await self.dest.hosted.image(image.id).details() is not None:
                return CopyEvent("skip", image.id, image.id, "already in the destination")
            return CopyEvent("copy", image.id, image.id, "same id")
        mapped = self.id_map.get(image.id)
        if mapped is not None:
            if await self.dest.hosted.image(mapped).details() is not None:
                return CopyEvent("skip", image.id, mapped, "already copied (id map)")
            return CopyEvent("copy", image.id, None, f"new id: the mapped copy {mapped} is gone")
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
        # cancelled (Ctrl-C): cut short, the destination might hold an image the map does not
        # know, and a re-run would copy it a second time. `settle()` waits for these.
        commit = asyncio.ensure_future(self._commit(image, data, target_id))
        self._commits.add(commit)
        commit.add_done_callback(self._commits.discard)
        return await asyncio.shield(commit)

    async def settle(self) -> None:
        """Wait for the uploads already sent (see `_upload`)."""
        if self._commits:
            await asyncio.gather(*self._commits, return_exceptions=True)

    async def _commit(self, image: ImageMetadata, data: bytes, target_id: str | None) -> CopyEvent:
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
            if error.code == ErrorCode.ALREADY_EXISTS and target_id is not None:
                return CopyEvent("skip", image.id, target_id, "already in the destination")
            raise
        if target_id is None:
            self.id_map.record(image.id, stored.id)
        return CopyEvent("copy", image.id, stored.id, "copied" if target_id else "copied with a new id")


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
    """Copy every image of `source` (those `query` matches) into `dest`, yielding one event
    per image as it completes. A dry run plans without writing anything."""
    if not 1 <= jobs <= MAX_JOBS:
        raise ValueError(f"jobs must be from 1 to {MAX_JOBS}")
    copier = _Copier(source, dest, id_map if id_map is not None else IdMap(), dry_run)
    running: set[asyncio.Task[CopyEvent]] = set()
    found = matching_images(source, query, page_size=max(page_size, jobs))
    try:
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
        copier.id_map.save()
