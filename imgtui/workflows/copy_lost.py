"""For `imgtui cp`: finding the copy of an upload whose answer was lost, and telling when two
libraries are one.

An upload without an id that lost its answer (a dropped connection, a 5xx, a kill) may have
been stored under an id nobody knows. Before uploading it again, the destination's newest
images are read back to the moment it was sent (a clock skew allowed): a candidate must
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
SCAN_PAGE = 1000


def fingerprint(image: ImageMetadata) -> str:
    """The fields an upload sends that the destination keeps as they were (not the filename:
    without one, a REST upload names the file "image")."""
    fields = [image.creator, image.meta or {}, image.require_signed_urls]
    text = json.dumps(fields, sort_keys=True, ensure_ascii=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _uploaded_ms(image: ImageMetadata) -> int:
    return int(image.uploaded.timestamp() * 1000)


async def find_lost(
    dest: Images,
    wanted: dict[str, Sent],
    *,
    taken: Callable[[str], bool],
    until_ms: int | None = None,
    page_size: int = SCAN_PAGE,
) -> dict[str, str]:
    """Old id -> the destination id holding its copy, for the `wanted` uploads found.
    `taken(id)`: already the copy of another image. `until_ms`: when the answers were lost
    (nothing stored later is theirs), None after a killed run. Reads the listing newest
    first, back to the oldest send."""
    if not wanted:
        return {}
    oldest = min(sent.at_ms for sent in wanted.values()) - CLOCK_SKEW_MS
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
            late = until_ms is not None and uploaded > until_ms + CLOCK_SKEW_MS
            if not olds or late or image.draft or taken(image.id):
                continue
            for old_id in olds:
                sent = wanted[old_id]
                if uploaded < sent.at_ms - CLOCK_SKEW_MS or (
                    sent.filename is not None and image.filename != sent.filename
                ):
                    continue
                if image.id not in hashes:
                    data = await dest.hosted.image(image.id).read()
                    hashes[image.id] = None if data is None else await asyncio.to_thread(digest, data)
                if hashes[image.id] == sent.sha256:
                    candidates.setdefault(old_id, []).append((uploaded, image.id))
        if page.list_complete or not page.cursor:
            return _choose(candidates)
        cursor = page.cursor


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
