"""Hostile text for the terminal-injection tests: strings, a lying REST server, screen readers.

`HostileServer` is a tiny Cloudflare Images v1/v2 endpoint on 127.0.0.1 (http.server in a
thread) whose every string field (id, filename, creator, metadata keys and values, variant
URLs, errors[].message, messages) carries terminal control sequences, bidi overrides or
markup. `terminal_output(app)` is what Textual would write to the terminal for the current
screen; `forbidden_controls(raw)` lists what in it is not Textual's own colours and moves.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

TITLE = "\x1b]2;PWNED\x07"  # OSC 2: renames the terminal window
WIPE = "\x1b[2J\x1b[?1049l"  # clear the screen, leave the alternate screen
BIDI = "evil\u202egnp.exe"  # shows as "evilexe.png" when written raw
MARKUP = "[bold]x"
CLOSE = "[/]"  # a MarkupError if parsed
C1_CSI = "\x9b31m"  # the 8-bit CSI: a colour change on terminals that take C1
HOSTILE = (TITLE, WIPE, BIDI, MARKUP, CLOSE, C1_CSI)

# How each raw hostile string must appear on screen instead (safe_text's escapes).
SHOWN = {
    TITLE: "\\x1b]2;PWNED\\x07",
    WIPE: "\\x1b[2J\\x1b[?1049l",
    BIDI: "evil\\u202egnp.exe",
    MARKUP: "[bold]x",
    CLOSE: "[/]",
    C1_CSI: "\\x9b31m",
}

ACCOUNT_ID = "0123456789abcdef0123456789abcdef"
ERROR_ID_PREFIX = "err"  # details of these ids answer a hostile error
ERROR_MESSAGE = f"denied {TITLE} {CLOSE} {WIPE}"


def hostile_record(index: int) -> dict[str, Any]:
    """An image record with a control sequence or markup in every string field."""
    first, second, third = (HOSTILE[(index + k) % len(HOSTILE)] for k in range(3))
    image_id = f"{ERROR_ID_PREFIX}{index}{first}" if index == 3 else f"id{index}{first}"
    return {
        "id": image_id,
        "filename": f"{second}.png",
        "creator": third,
        "uploaded": f"2025-03-0{index + 1}T10:00:00.000Z",
        "requireSignedURLs": False,
        "meta": {f"key{TITLE}": f"value{C1_CSI}{BIDI}", "markup": CLOSE, "wipe": WIPE},
        "variants": [f"https://imagedelivery.net/hash/{image_id}/{first}", f"https://h/{image_id}/public"],
        "draft": False,
    }


class HostileServer:
    """Cloudflare's list (v2), details and keys answers, every string hostile; `fail_list`
    makes the next lists answer a 400 whose message is hostile too."""

    def __init__(self, count: int = 6) -> None:
        self.records = [hostile_record(index) for index in range(count)]
        self.fail_list = False
        self.paths: list[str] = []  # every request path, decoded, in order
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def api_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/client/v4"

    def start(self) -> HostileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def answer(self, path: str) -> tuple[int, dict[str, Any]]:
        self.paths.append(path)
        if path.endswith("/images/v2"):
            if self.fail_list:
                return 400, _failure(5400, ERROR_MESSAGE)
            return 200, _success({"images": self.records, "continuation_token": None})
        marker = "/images/v1/"
        if marker in path:
            image_id = path.split(marker, 1)[1]
            if image_id.endswith("/blob"):
                return 404, _failure(5404, ERROR_MESSAGE)
            if image_id == "keys":
                return 200, _success({"keys": [{"name": f"key{TITLE}", "value": "secret"}]})
            if image_id.startswith(ERROR_ID_PREFIX):
                return 400, _failure(5400, ERROR_MESSAGE)
            for record in self.records:
                if record["id"] == image_id:
                    return 200, _success(record)
            return 404, _failure(5404, f"not found {TITLE}")
        return 404, _failure(7003, f"no route {WIPE}")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                status, body = server.answer(unquote(urlsplit(self.path).path))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass  # quiet tests

        return Handler


def _success(result: Any) -> dict[str, Any]:
    return {"success": True, "errors": [], "messages": [{"code": 1, "message": TITLE}], "result": result}


def _failure(code: int, message: str) -> dict[str, Any]:
    return {"success": False, "errors": [{"code": code, "message": message}], "messages": [], "result": None}


@contextmanager
def hostile_server(count: int = 6) -> Iterator[HostileServer]:
    server = HostileServer(count).start()
    try:
        yield server
    finally:
        server.stop()


# ----------------------------------------------------------------- what reaches the terminal

# Textual's own output: colours/styles (SGR) and cursor moves; anything else is injected.
_TEXTUAL_OWN = re.compile(r"\x1b\[[0-9;:]*m|\x1b\[\d+;\d+H|\x1b\[\d*[ABCDGK]")
_FORBIDDEN = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def terminal_output(app: Any) -> str:
    """The escape-sequence stream Textual would write for a full repaint of the screen.

    Uses the compositor (private; the same call `App.export_screenshot` makes): headless runs
    never encode frames, so this is the nearest to the bytes a terminal would get.
    """
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    return update.render_segments(app.console)


def screen_text(app: Any) -> str:
    """The screen as plain text, one line per row (modals over the main screen included)."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    return "\n".join("".join(segment.text for strip in line for segment in strip) for line in update.strips)


def forbidden_controls(raw: str) -> list[str]:
    """The control and bidi characters in `raw` besides Textual's SGR and cursor sequences."""
    return [repr(char) for char in _FORBIDDEN.findall(_TEXTUAL_OWN.sub("", raw))]
