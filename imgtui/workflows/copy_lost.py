"""For `imgtui cp`: finding the copy of an upload whose answer was lost, and telling when two
libraries are one.

An upload without an id that lost its answer (a dropped connection, a 5xx, a kill) may have
been stored under an id nobody knows. Before uploading it again, the destination's newest
images are read back to the moment it was sent, in the destination's clock (`DestClock`
learns it from the answers of the uploads that succeeded, so the window is seconds wide; 10
minutes each way while nothing is known): a candidate must
carry the same creator, metadata and signed-URL flag (and filename, when the source has one),
must not already be the copy of another source image, and its bytes must hash the same.
Only candidates that pass the cheap checks are read. Among several, the oldest is taken: an
identical image uploaded later is somebody else's, or a sibling copied after this one.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from urllib.parse import urlsplit

from imgtui.service import ImageMetadata, Images

from .copy_map import Sent

# The destination stamps `uploaded` with its own clock; ours may be this far off.
CLOCK_SKEW_MS = 10 * 60 * 1000
# Once its clock is learnt: rounding of the stamps, a small step of either clock.
LEARNT_MARGIN_MS = 2000
FIRST_PAGE = 100  # a window of seconds is usually on the first page; later pages grow
SCAN_PAGE = 1000


class DestClock:
    """The destination's clock minus ours, as an interval: an upload sent at our `s`,
    answered at our `a` and stamped `u` by the destination was stored between `s` and `a`,
    so the offset lies in [u - a, u - s]. Each answer narrows it."""

    def __init__(self) -> None:
        self._low: int | None = None
        self._high: int | None = None

    def learn(self, sent_ms: int, answered_ms: int, stamp: ImageMetadata) -> None:
        uploaded = _uploaded_ms(stamp)
        low, high = uploaded - answered_ms, uploaded - sent_ms
        self._low = low if self._low is None else max(self._low, low)
        self._high = high if self._high is None else min(self._high, high)
        if self._low > self._high + LEARNT_MARGIN_MS:  # a clock stepped: start again
            self._low, self._high = low, high

    def earliest(self, local_ms: int) -> int:
        """The earliest destination stamp of an upload sent at our `local_ms`."""
        if self._low is None:
            return local_ms - CLOCK_SKEW_MS
        return local_ms + self._low - LEARNT_MARGIN_MS

    def latest(self, local_ms: int) -> int:
        """The latest destination stamp of an upload whose answer we lost at `local_ms`."""
        if self._high is None:
            return local_ms + CLOCK_SKEW_MS
        return local_ms + self._high + LEARNT_MARGIN_MS


def fingerprint(image: ImageMetadata) -> str:
    """The fields an upload sends that the destination keeps as they were (not the filename:
    without one, a REST upload names the file "image")."""
    fields = [image.creator, image.meta or {}, image.require_signed_urls]
    text = json.dumps(fields, sort_keys=True, ensure_ascii=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_HASH_ON_LOOP = 256 * 1024  # well under a millisecond; larger files go to a thread


async def digest_off_loop(data: bytes) -> str:
    """`digest`, in a thread when the bytes are many (up to 10 MiB: tens of milliseconds)."""
    return digest(data) if len(data) <= _HASH_ON_LOOP else await asyncio.to_thread(digest, data)


def _uploaded_ms(image: ImageMetadata) -> int:
    return int(image.uploaded.timestamp() * 1000)


async def find_lost(
    dest: Images,
    wanted: dict[str, Sent],
    *,
    taken: Callable[[str], bool],
    until_ms: int | None = None,
) -> dict[str, str]:
    """Old id -> the destination id holding its copy, for the `wanted` uploads found.
    `taken(id)`: already the copy of another image. `Sent.at_ms` and `until_ms` are in the
    destination's clock: the earliest stamp of each, and the latest of all (None after a
    killed run: not known). Reads the listing newest first, back to the oldest send."""
    if not wanted:
        return {}
    oldest = min(sent.at_ms for sent in wanted.values())
    page_size = FIRST_PAGE
    by_fp: dict[str, list[str]] = {}
    for old_id, sent in wanted.items():
        by_fp.setdefault(sent.fp, []).append(old_id)
    candidates: dict[str, list[tuple[int, str]]] = {}  # old id -> (uploaded ms, dest id)
    hashes: dict[str, str | None] = {}  # dest id -> sha256 of its bytes (None: gone)
    cursor: str | None = None
    while True:
        page = await dest.hosted.list(limit=page_size, cursor=cursor, sort_order="desc")
        for image in page.images:
            uploaded = _uploaded_ms(image)
            if uploaded < oldest:
                return _choose(candidates)
            olds = by_fp.get(fingerprint(image))
            late = until_ms is not None and uploaded > until_ms
            if not olds or late or image.draft or taken(image.id):
                continue
            for old_id in olds:
                sent = wanted[old_id]
                if uploaded < sent.at_ms or (sent.filename is not None and image.filename != sent.filename):
                    continue
                if image.id not in hashes:
                    data = await dest.hosted.image(image.id).read()
                    hashes[image.id] = None if data is None else await digest_off_loop(data)
                if hashes[image.id] == sent.sha256:
                    candidates.setdefault(old_id, []).append((uploaded, image.id))
        if page.list_complete or not page.cursor:
            return _choose(candidates)
        cursor = page.cursor
        page_size = min(page_size * 4, SCAN_PAGE)


def _choose(candidates: dict[str, list[tuple[int, str]]]) -> dict[str, str]:
    """The oldest candidate of each, and never one destination image for two sources."""
    chosen: dict[str, str] = {}
    used: set[str] = set()
    for old_id, found in sorted(candidates.items(), key=lambda item: min(item[1])):
        for _, dest_id in sorted(found):
            if dest_id not in used:
                chosen[old_id] = dest_id
                used.add(dest_id)
                break
    return chosen


def account_hash(image: ImageMetadata) -> str | None:
    """The account segment of the image's delivery URLs (`…/HASH/ID/VARIANT`), which names
    the library whatever the route to it (a path, or `imgtui serve` over that path)."""
    for url in image.variants:
        try:
            segments = urlsplit(url).path.split("/")
        except ValueError:
            continue
        depth = image.id.count("/") + 3  # the hash, the id's own segments, the variant
        if len(segments) >= depth and segments[-depth]:
            return segments[-depth]
    return None


async def _first_hash(images: Images) -> str | None:
    page = await images.hosted.list(limit=20)
    for image in page.images:
        found = account_hash(image)
        if found is not None:
            return found
    return None


async def same_library(source: Images, dest: Images) -> bool:
    """Do both name one library? Compared by account hash: two reads of one short page."""
    first = await _first_hash(source)
    return first is not None and first == await _first_hash(dest)
