"""Run the REST client against `imgtui serve` over real loopback HTTP.

`rest_images(library_path)` starts the emulator on a background thread (port 0), yields an
`Images.cloudflare(...)` pointed at it, and shuts both down. The conformance suite
parametrizes its `images` fixture over local and REST with it.

`ScriptedServer` is the opposite: a loopback server that answers exactly the bytes a test
writes (a drip, a decompression bomb, an endless Retry-After), for the client's defences.
"""

from __future__ import annotations

import pathlib
import socket
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from imgtui.emulator import BackgroundEmulator, FaultSpec, ServeSettings
from imgtui.service import Images

ACCOUNT_ID = "0123456789abcdef0123456789abcdef"

# Retries in tests should not wait like they would against Cloudflare.
FAST_RETRIES: dict[str, Any] = {"backoff_base": 0.001, "backoff_cap": 0.01, "max_retry_after": 0.01}


def start_emulator(
    library_path: pathlib.Path | str,
    *,
    api_token: str | None = "test-token",
    faults: FaultSpec | str | None = None,
    signing_key: str | None = None,
) -> BackgroundEmulator:
    if isinstance(faults, str):
        faults = FaultSpec.parse(faults)
    settings = ServeSettings(
        library=pathlib.Path(library_path),
        host="127.0.0.1",
        port=0,
        api_token=api_token,
        signing_key=signing_key,
        faults=faults,
    )
    return BackgroundEmulator(settings).start()


@asynccontextmanager
async def rest_server_and_images(
    library_path: pathlib.Path | str,
    *,
    api_token: str = "test-token",
    faults: FaultSpec | str | None = None,
    signing_key: str | None = None,
    **client_options: Any,
) -> AsyncIterator[tuple[BackgroundEmulator, Images]]:
    """Like `rest_images`, also yielding the server (its URLs, state and fault counts)."""
    server = start_emulator(library_path, api_token=api_token, faults=faults, signing_key=signing_key)
    try:
        images = Images.cloudflare(
            ACCOUNT_ID, api_token, base_url=server.api_url, **{**FAST_RETRIES, **client_options}
        )
        try:
            yield server, images
        finally:
            await images.aclose()
    finally:
        server.stop()


@asynccontextmanager
async def rest_images(
    library_path: pathlib.Path | str,
    *,
    api_token: str = "test-token",
    faults: FaultSpec | str | None = None,
    **client_options: Any,
) -> AsyncIterator[Images]:
    async with rest_server_and_images(library_path, api_token=api_token, faults=faults, **client_options) as (
        _server,
        images,
    ):
        yield images


# -- a scripted loopback server, for answers no real server should give ----------------------


@dataclass(frozen=True, slots=True)
class RawRequest:
    method: str
    target: str
    headers: dict[str, str]  # names lower-cased
    body: bytes


# Writes the whole answer to the socket. `stop` is set when the server shuts down: a slow
# answer checks it between writes, so every test ends promptly.
Answer = Callable[[RawRequest, socket.socket, threading.Event], None]

_MAX_HEAD = 64 * 1024
_MAX_BODY = 16 * 1024 * 1024


class ScriptedServer:
    """HTTP/1.1 on 127.0.0.1 whose every answer is whatever `answer` writes (drips, bombs, raw
    bytes). One answer per connection, then the connection is closed; a thread per connection.

        with ScriptedServer(answer) as server:
            Images.cloudflare(ACCOUNT_ID, "t", base_url=server.api_url)
    """

    def __init__(self, answer: Answer) -> None:
        self._answer = answer
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)  # accept() wakes to see the stop; close() alone would not
        self._threads: list[threading.Thread] = []
        self.requests: list[RawRequest] = []
        port = self._listener.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        self.api_url = f"{self.base_url}/client/v4"

    def __enter__(self) -> ScriptedServer:
        accepter = threading.Thread(target=self._accept, name="scripted-server", daemon=True)
        accepter.start()
        self._threads.append(accepter)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in list(self._threads):
            thread.join(timeout=5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by __exit__
                return
            worker = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(worker)
            worker.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.setblocking(True)
            conn.settimeout(5)
            try:
                request = _read_request(conn)
                if request is None:
                    return
                self.requests.append(request)
                self._answer(request, conn, self._stop)
            except OSError:  # the client gave up or was refused: expected in these tests
                return


def _read_request(conn: socket.socket) -> RawRequest | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk or len(data) > _MAX_HEAD:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = min(int(headers.get("content-length", "0") or 0), _MAX_BODY)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return RawRequest(method, target, headers, body)


def http_head(status: int, headers: dict[str, str] | None = None, *, length: int | None = None) -> bytes:
    """A status line and headers (Connection: close), ready to send."""
    reason = {200: "OK", 429: "Too Many Requests", 503: "Service Unavailable"}.get(status, "Status")
    fields = {"Content-Type": "application/json", "Connection": "close", **(headers or {})}
    if length is not None:
        fields["Content-Length"] = str(length)
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{name}: {value}" for name, value in fields.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def respond(status: int, body: bytes, headers: dict[str, str] | None = None) -> Answer:
    def answer(request: RawRequest, conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(http_head(status, headers, length=len(body)) + body)

    return answer


def drip(head: bytes, body: bytes, *, every: float = 0.5, in_head: bool = False) -> Answer:
    """Send one byte every `every` seconds: of the head too when `in_head`, else after it.
    Bounded by the length of what it sends and by the server's stop."""

    def answer(request: RawRequest, conn: socket.socket, stop: threading.Event) -> None:
        payload = head + body
        start = 0 if in_head else len(head)
        conn.sendall(payload[:start])
        for i in range(start, len(payload)):
            if stop.wait(every):
                return
            conn.sendall(payload[i : i + 1])

    return answer
