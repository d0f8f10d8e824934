"""One `_mf_entries` row to an `ImageMetadata`, treating every stored byte as hostile.

The images mock stores the whole record the binding returns as the KV entry's metadata JSON
(https://github.com/cloudflare/workers-sdk/blob/main/packages/miniflare/src/workers/images/images.worker.ts):
`{id, filename, uploaded, requireSignedURLs, meta, variants, draft, creator?}`. A row that
does not have that shape is an error naming the row, never an image with guessed fields.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from imgtui.service.models import ImageMetadata
from imgtui.service.rules import MAX_METADATA_DEPTH

from .layout import layout_error

# KV caps metadata at 1024 bytes and keys at 512; the margins allow a later miniflare to
# raise them, and the SQL query never loads more than this from a row.
MAX_RECORD_BYTES = 64 * 1024
MAX_KEY_BYTES = 2048

# The columns `read_rows` selects, capped in SQL so a hostile row is never loaded whole.
ROW_QUERY = f"""
    SELECT typeof(key), CASE WHEN length(CAST(key AS BLOB)) <= {MAX_KEY_BYTES} THEN key END,
           typeof(blob_id), CASE WHEN length(CAST(blob_id AS BLOB)) <= 256 THEN blob_id END,
           typeof(expiration), expiration,
           typeof(metadata), CASE WHEN length(CAST(metadata AS BLOB)) <= {MAX_RECORD_BYTES} THEN metadata END
    FROM _mf_entries
"""


@dataclass(frozen=True, slots=True)
class Entry:
    """An image of the state: its record and where its bytes are."""

    image: ImageMetadata
    blob_id: str


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, iteratively (json.dumps elsewhere recurses)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def _optional_str(record: dict[str, Any], name: str, where: str) -> str | None:
    value = record.get(name)
    if value is not None and not isinstance(value, str):
        raise layout_error(f"{where}: `{name}` should be a string, not {type(value).__name__}")
    return value


def _parse_uploaded(value: object, where: str) -> datetime:
    if not isinstance(value, str) or len(value) > 64:
        raise layout_error(f"{where}: `uploaded` should be an ISO 8601 date string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise layout_error(f"{where}: `uploaded` {value!r} is not an ISO 8601 date") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_record(key: str, text: str, where: str) -> ImageMetadata:
    """The record stored for `key` (its metadata JSON), checked field by field."""
    try:
        record = json.loads(text)
    except (ValueError, RecursionError):
        raise layout_error(f"{where}: the metadata is not JSON") from None
    if not isinstance(record, dict):
        raise layout_error(f"{where}: the metadata should be a JSON object, not {type(record).__name__}")
    if record.get("id") != key:
        raise layout_error(f"{where}: the record's `id` does not match its key")
    signed, draft = record.get("requireSignedURLs", False), record.get("draft", False)
    if not isinstance(signed, bool) or not isinstance(draft, bool):
        raise layout_error(f"{where}: `requireSignedURLs` and `draft` should be true or false")
    meta = record.get("meta")
    if meta is not None and (not isinstance(meta, dict) or _depth(meta) > MAX_METADATA_DEPTH):
        raise layout_error(
            f"{where}: `meta` should be a JSON object nested at most {MAX_METADATA_DEPTH} deep"
        )
    variants = record.get("variants", [])
    if not isinstance(variants, list) or not all(isinstance(name, str) for name in variants):
        raise layout_error(f"{where}: `variants` should be a list of strings")
    return ImageMetadata(
        id=key,
        filename=_optional_str(record, "filename", where),
        uploaded=_parse_uploaded(record.get("uploaded"), where),
        require_signed_urls=signed,
        meta=meta,
        variants=variants,
        draft=draft,
        creator=_optional_str(record, "creator", where),
    )


def parse_row(row: tuple[Any, ...], database: str, now_ms: int) -> Entry | None:
    """An `_mf_entries` row from ROW_QUERY; None for what the binding does not see as an image
    (an expired entry, or one without metadata, which the mock's list() skips)."""
    key_type, key, blob_type, blob_id, expiration_type, expiration, metadata_type, metadata = row
    if key_type != "text" or key is None:
        raise layout_error(
            f"Unknown wrangler dev images layout in {database}: a key is not text, or too long"
        )
    where = f"wrangler dev image {key[:80]!r} in {database}"
    if blob_type != "text" or blob_id is None:
        raise layout_error(f"{where}: `blob_id` should be a short text")
    if expiration_type not in ("null", "integer"):
        raise layout_error(f"{where}: `expiration` should be empty or a number of milliseconds")
    if expiration is not None and expiration <= now_ms:
        return None  # KV hides an expired entry until it sweeps it
    if metadata_type == "null":
        return None
    if metadata_type != "text" or metadata is None:
        raise layout_error(f"{where}: the metadata should be JSON text of at most {MAX_RECORD_BYTES} bytes")
    return Entry(parse_record(key, metadata, where), blob_id)
