"""The mock's list() order and paging, with a cursor that survives deletes.

The mock sorts by `uploaded` then `id` (descending negates both) and uses the last id as the
cursor, restarting from the first image when that id is gone. Here the cursor is the last
position (uploaded, id) itself, so a page after a deleted image continues where it was.
Ids compare by code point; the mock's `localeCompare` differs only for ties of `uploaded`
to the millisecond between ids that differ in case or punctuation.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from imgtui.service.errors import ErrorCode, ImagesError
from imgtui.service.models import ImageList, ImageMetadata
from imgtui.service.rules import SortOrder

from .records import Entry

_MAX_CURSOR_CHARS = 4096
SortKey = tuple[datetime, str]


def _sort_key(image: ImageMetadata) -> SortKey:
    return image.uploaded, image.id


def encode_cursor(image: ImageMetadata) -> str:
    body = json.dumps([image.uploaded.isoformat(), image.id], ensure_ascii=True).encode()
    return base64.urlsafe_b64encode(body).decode().rstrip("=")


def decode_cursor(cursor: str) -> SortKey:
    try:
        if len(cursor) > _MAX_CURSOR_CHARS:
            raise ValueError("too long")
        uploaded, image_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        moment = datetime.fromisoformat(uploaded)
        if not isinstance(image_id, str) or moment.tzinfo is None:
            raise ValueError("not a position")
    except (ValueError, TypeError, binascii.Error):
        raise ImagesError(ErrorCode.BAD_REQUEST, "Invalid cursor") from None
    return moment, image_id


def page(
    entries: list[Entry], *, limit: int, cursor: str | None, sort_order: SortOrder, creator: str | None
) -> ImageList:
    images = [entry.image for entry in entries if not creator or entry.image.creator == creator]
    descending = sort_order == "desc"
    images.sort(key=_sort_key, reverse=descending)
    if cursor is not None:
        after = decode_cursor(cursor)
        images = [
            image
            for image in images
            if (_sort_key(image) < after if descending else _sort_key(image) > after)
        ]
    shown = images[:limit]
    if len(images) <= limit or not shown:
        return ImageList(images=shown, cursor=None, list_complete=True)
    return ImageList(images=shown, cursor=encode_cursor(shown[-1]), list_complete=False)
