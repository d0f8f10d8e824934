"""Opaque list cursors: (sequence, sort order, creator filter), authenticated with an HMAC.

A token is base64url(version | sequence bytes | 12-byte MAC), 19 to 28 characters. The sort
order and the creator filter are not in the token, only in the MAC: the caller passes them
again with the cursor, so a cursor reused with another order or creator fails the check
(and stays short). 96 bits of MAC is far beyond guessing range for a local library.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

from imgtui.service.errors import ErrorCode, ImagesError
from imgtui.service.filters import MetadataFilter
from imgtui.service.rules import SortOrder

_VERSION = b"\x01"
_MAC_BYTES = 12
_MAX_SEQ_BYTES = 8  # sequences are SQLite INTEGERs: at most 2**63-1
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{19,28}$")


def _mac(secret: bytes, body: bytes, sort_order: SortOrder, creator: str | None) -> bytes:
    # None and "" are different filters, so they must sign differently.
    creator_part = b"\x00" if creator is None else b"\x01" + creator.encode("utf-8")
    message = body + sort_order.encode() + creator_part
    return hmac.new(secret, message, hashlib.sha256).digest()[:_MAC_BYTES]


def listing_scope(creator: str | None, metadata_filter: MetadataFilter | None) -> str | None:
    """What a cursor is bound to besides the order: the creator filter, and the metadata
    filter when there is one (creators hold no control characters, so \x1f cannot collide)."""
    if metadata_filter is None:
        return creator
    return ("N" if creator is None else "C" + creator) + "\x1f" + metadata_filter.canonical


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def encode_cursor(secret: bytes, seq: int, sort_order: SortOrder, creator: str | None) -> str:
    """The cursor of a page that ends at image `seq`."""
    body = _VERSION + seq.to_bytes(max(1, (seq.bit_length() + 7) // 8), "big")
    return _b64(body + _mac(secret, body, sort_order, creator))


def invalid_cursor() -> ImagesError:
    return ImagesError(ErrorCode.BAD_REQUEST, "Invalid cursor")


def decode_cursor(secret: bytes, token: str, sort_order: SortOrder, creator: str | None) -> int:
    """The sequence a cursor resumes after, or ImagesError 5400 for anything not ours."""
    if not isinstance(token, str) or not _TOKEN_SHAPE.match(token):
        raise invalid_cursor()
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise invalid_cursor() from None
    # Only the canonical spelling is ours (rejects tokens differing in unused trailing bits).
    if _b64(raw) != token or not 1 <= len(raw) - len(_VERSION) - _MAC_BYTES <= _MAX_SEQ_BYTES:
        raise invalid_cursor()
    body, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    if body[:1] != _VERSION or not hmac.compare_digest(mac, _mac(secret, body, sort_order, creator)):
        raise invalid_cursor()
    seq = int.from_bytes(body[1:], "big")
    if seq < 1 or seq >= 1 << 63:
        raise invalid_cursor()
    return seq
