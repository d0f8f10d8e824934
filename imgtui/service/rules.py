"""Cloudflare's rules on arguments, shared by every backend and by `imgtui serve`.

Each check raises `ImagesError` with the code Cloudflare uses; none does I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from .errors import ErrorCode, ImagesError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # "10 MB": we read it as MiB and say so in the README
# A base64 upload's text: 4/3 of the bytes, plus room for line breaks.
MAX_BASE64_TEXT_BYTES = MAX_UPLOAD_BYTES * 4 // 3 + MAX_UPLOAD_BYTES // 32 + 8
MAX_SIDE_PX = 12_000
MAX_AREA_PX = 100_000_000
# Animations: "animated GIF/WebP count all frames together" against the area limit
# (https://developers.cloudflare.com/images/upload-images/). Measured here as the frames'
# own rectangles added up: the pixels a decoder must decode. APNG counts the same way.
MAX_ANIMATION_AREA_PX = MAX_AREA_PX
MAX_METADATA_BYTES = 1024
MAX_ID_CHARS = 1024
MAX_CREATOR_CHARS = 1024
MAX_FILENAME_CHARS = 255
MAX_LIST_LIMIT = 10_000
# Metadata nesting: Cloudflare's 1024-byte cap allows ~500 levels, far more than any real use;
# a fixed cap checked iteratively keeps json.dumps (which recurses) away from RecursionError.
MAX_METADATA_DEPTH = 32

# Characters a terminal obeys instead of showing: C0 controls, DEL, C1 controls; the Arabic
# letter mark, LRM/RLM; line and paragraph separators; bidi embeddings, overrides, isolates
# (https://www.unicode.org/reports/tr9/#Directional_Formatting_Characters). Ids, filenames and
# creators holding one are refused. imgtui/common/text.py escapes the same set for display
# (it may not import the service; a test asserts both sets are equal).
UNSAFE_CHARACTERS = "\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[{UNSAFE_CHARACTERS}]")

SortOrder = Literal["asc", "desc"]

_UUID_SHAPE = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


def first_unsafe_character(text: str) -> str | None:
    """The first control or bidi character in `text` (see UNSAFE_CHARACTERS), if any."""
    match = _UNSAFE.search(text)
    return None if match is None else match.group()


def _refuse_unsafe_characters(what: str, text: str) -> None:
    char = first_unsafe_character(text)
    if char is not None:
        raise ImagesError(
            ErrorCode.BAD_REQUEST,
            f"{what} must not contain control or bidirectional formatting characters"
            f" (found U+{ord(char):04X})",
        )


def is_uuid_shaped(image_id: str) -> bool:
    """True for ids Cloudflare generates (and so refuses as custom ids)."""
    return bool(_UUID_SHAPE.match(image_id))


def is_custom_id(image_id: str) -> bool:
    """A custom id is any id that is not UUID-shaped: only those can never be private."""
    return not is_uuid_shaped(image_id)


def check_custom_id(image_id: object) -> str:
    if not isinstance(image_id, str):
        raise ImagesError(ErrorCode.BAD_REQUEST, "Custom ID must be a string")
    if not 1 <= len(image_id) <= MAX_ID_CHARS:
        raise ImagesError(ErrorCode.BAD_REQUEST, f"Custom ID must be 1 to {MAX_ID_CHARS} characters")
    if image_id.startswith("/") or image_id.endswith("/"):
        raise ImagesError(ErrorCode.BAD_REQUEST, "Custom ID must not start or end with '/'")
    if is_uuid_shaped(image_id):
        raise ImagesError(ErrorCode.BAD_REQUEST, "Custom ID must not be UUID")
    _refuse_unsafe_characters("Custom ID", image_id)
    if "\\" in image_id or "?" in image_id or "#" in image_id:
        raise ImagesError(ErrorCode.BAD_REQUEST, "Custom ID must not contain '\\', '?' or '#'")
    if any(part in ("", ".", "..") for part in image_id.split("/")):
        raise ImagesError(ErrorCode.BAD_REQUEST, "Custom ID must not have empty, '.' or '..' path segments")
    return image_id


def metadata_json(metadata: Mapping[str, Any]) -> str:
    """The compact JSON the 1024-byte limit is measured on."""
    return json.dumps(metadata, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def metadata_size(metadata: Mapping[str, Any]) -> int:
    return len(metadata_json(metadata).encode("utf-8"))


def _check_metadata_shape(metadata: Mapping[str, Any]) -> None:
    """Refuse metadata nested deeper than MAX_METADATA_DEPTH, without recursion.

    Also bounded in work: every value costs at least one byte of JSON, so more than
    MAX_METADATA_BYTES values is over the size limit whatever they are (this also ends
    the walk on a self-referencing dict or a list shared many times over).
    """
    stack: list[tuple[object, int]] = [(metadata, 1)]
    values = 0
    while stack:
        value, depth = stack.pop()
        values += 1
        if values > MAX_METADATA_BYTES:
            raise ImagesError(
                ErrorCode.BAD_REQUEST,
                f"Metadata is over {MAX_METADATA_BYTES} bytes; at most {MAX_METADATA_BYTES} bytes are allowed",
            )
        if isinstance(value, Mapping):
            children: Any = value.values()
        elif isinstance(value, list | tuple):
            children = value
        else:
            continue
        if depth > MAX_METADATA_DEPTH:
            raise ImagesError(
                ErrorCode.BAD_REQUEST,
                f"Metadata is nested too deeply; at most {MAX_METADATA_DEPTH} levels are allowed",
            )
        stack.extend((child, depth + 1) for child in children)


def check_metadata(metadata: object) -> dict[str, Any]:
    if not isinstance(metadata, Mapping):
        raise ImagesError(ErrorCode.BAD_REQUEST, "Metadata must be a JSON object")
    _check_metadata_shape(metadata)
    try:
        size = metadata_size(metadata)
    except (TypeError, ValueError) as exc:
        raise ImagesError(ErrorCode.BAD_REQUEST, f"Metadata is not valid JSON: {exc}") from None
    if size > MAX_METADATA_BYTES:
        raise ImagesError(
            ErrorCode.BAD_REQUEST,
            f"Metadata is {size} bytes; at most {MAX_METADATA_BYTES} bytes are allowed",
        )
    return json.loads(metadata_json(metadata))  # a deep, JSON-clean copy


def check_creator(creator: object) -> str:
    if not isinstance(creator, str) or len(creator) > MAX_CREATOR_CHARS:
        raise ImagesError(
            ErrorCode.BAD_REQUEST, f"Creator must be a string of at most {MAX_CREATOR_CHARS} characters"
        )
    _refuse_unsafe_characters("Creator", creator)
    return creator


def check_creator_filter(creator: object) -> str:
    """The list filter: only the length. Refusing controls there would hide nothing (no new
    record can hold one) but would stop a user from finding one stored before the rule."""
    if not isinstance(creator, str) or len(creator) > MAX_CREATOR_CHARS:
        raise ImagesError(
            ErrorCode.BAD_REQUEST, f"Creator must be a string of at most {MAX_CREATOR_CHARS} characters"
        )
    return creator


def check_filename(filename: object) -> str:
    if not isinstance(filename, str) or not 1 <= len(filename) <= MAX_FILENAME_CHARS:
        raise ImagesError(ErrorCode.BAD_REQUEST, f"Filename must be 1 to {MAX_FILENAME_CHARS} characters")
    _refuse_unsafe_characters("Filename", filename)
    return filename


def check_require_signed_urls(value: object) -> bool:
    if not isinstance(value, bool):
        raise ImagesError(ErrorCode.BAD_REQUEST, "requireSignedURLs must be true or false")
    return value


def check_list_limit(limit: object) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIST_LIMIT:
        raise ImagesError(ErrorCode.BAD_REQUEST, f"limit must be an integer from 1 to {MAX_LIST_LIMIT}")
    return limit


def check_sort_order(sort_order: object) -> SortOrder:
    if sort_order not in ("asc", "desc"):
        raise ImagesError(ErrorCode.BAD_REQUEST, "sortOrder must be 'asc' or 'desc'")
    return sort_order


# https://developers.cloudflare.com/images/upload-images/direct-creator-upload/: the upload URL
# expires between 2 minutes and 6 hours from now, 30 minutes by default.
DIRECT_UPLOAD_MIN_S, DIRECT_UPLOAD_MAX_S, DIRECT_UPLOAD_DEFAULT_S = 120, 6 * 3600, 1800


def check_direct_upload_expiry(expiry: object, *, now: datetime) -> datetime:
    if expiry is None:
        return now + timedelta(seconds=DIRECT_UPLOAD_DEFAULT_S)
    if not isinstance(expiry, datetime) or expiry.tzinfo is None:
        raise ImagesError(ErrorCode.BAD_REQUEST, "expiry must be a time with a time zone")
    ahead = (expiry - now).total_seconds()
    if not DIRECT_UPLOAD_MIN_S <= ahead <= DIRECT_UPLOAD_MAX_S:
        raise ImagesError(ErrorCode.BAD_REQUEST, "expiry must be between 2 minutes and 6 hours from now")
    return expiry.astimezone(UTC)
