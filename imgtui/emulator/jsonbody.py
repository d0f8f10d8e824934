"""JSON from a request, parsed only after a cheap nesting-depth check.

`json.loads` recurses once per `[` or `{`: 30,000 of them raise RecursionError (a 500), and
a structure just under the interpreter's limit parses but then fails when it is serialized
again. Cloudflare's metadata is at most 1024 bytes, so a depth far beyond any real use is
refused up front, as a 5400.

This runs on the event loop, so every step is linear and C-speed: the largest body the
emulator reads (a 64 KiB PATCH) costs a few milliseconds however it is built.
"""

from __future__ import annotations

import json
import re
from array import array
from itertools import accumulate
from typing import Any

from imgtui.service.errors import ErrorCode, ImagesError

MAX_JSON_DEPTH = 64
# A JSON string, its closing quote optional. The possessive quantifiers never give back and
# an unterminated string simply runs to the end, so the match is linear. (A pattern that must
# end with `"` fails on an unterminated string and is retried from every later quote:
# `"\"\"\"...` took quadratic time, 2.8 s for 32 KB, on the event loop.)
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"?', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]++")
# Opening brackets to +1, closing ones to -1 (as signed bytes).
_STEPS = str.maketrans({"[": "\x01", "{": "\x01", "]": "\xff", "}": "\xff"})


def json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `text` nests arrays and objects deeper than `limit` (strings skipped, so
    brackets inside them do not count). Linear; no Python-level loop per character."""
    if text.count("[") + text.count("{") <= limit:  # the usual body: nothing to scan
        return False
    brackets = _NOT_BRACKETS.sub("", _STRING.sub("", text))
    steps = array("b", brackets.translate(_STEPS).encode("latin-1"))
    return max(accumulate(steps), default=0) > limit


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
