"""JSON from a request, parsed only after a cheap nesting-depth check.

`json.loads` recurses once per `[` or `{`: 30,000 of them raise RecursionError (a 500), and
a structure just under the interpreter's limit parses but then fails when it is serialized
again. Cloudflare's metadata is at most 1024 bytes, so a depth far beyond any real use is
refused up front, as a 5400.
"""

from __future__ import annotations

import json
import re
from typing import Any

from imgtui.service.errors import ErrorCode, ImagesError

MAX_JSON_DEPTH = 64
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `text` nests arrays and objects deeper than `limit` (strings skipped, so
    brackets inside them do not count). Linear, and stops at the first level too deep."""
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub('""', text)):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def too_deep(what: str) -> ImagesError:
    return ImagesError(ErrorCode.BAD_REQUEST, f"{what} is nested too deep (at most {MAX_JSON_DEPTH} levels)")


def parse_json(raw: str | bytes, what: str) -> Any:
    """The parsed JSON, or a 5400 that names `what` ("metadata", "The update body")."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if json_depth_exceeds(text):
        raise too_deep(what)
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise ImagesError(ErrorCode.BAD_REQUEST, f"{what} is not valid JSON") from None
