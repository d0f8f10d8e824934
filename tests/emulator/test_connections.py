"""Slow and idle clients cannot hold `imgtui serve` (finding 6): a request head must arrive
within its deadline, a body within its own, idle keep-alive connections are closed, and at
the connection limit the longest-idle connection makes room for a new client."""

from __future__ import annotations

import pathlib
import select
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
import pytest

from imgtui.emulator import BackgroundEmulator, ServeSettings
from imgtui.emulator.limits import ServeLimits

from .conftest import assert_error, assert_ok

STATS = "/client/v4/accounts/x/images/v1/stats"


@contextmanager
def serving(tmp_path: pathlib.Path, **limits: float) -> Iterator[BackgroundEmulator]:
    settings = ServeSettings(library=tmp_path / "lib", port=0, api_token=None, limits=ServeLimits(**limits))
    with BackgroundEmulator(settings) as server:
        yield server


def _connect(server: BackgroundEmulator) -> socket.socket:
    url = httpx.URL(server.base_url)
    return socket.create_connection((url.host, url.port), timeout=5)


def _closed_by_server(sock: socket.socket, wait: float = 0.0) -> bool:
    """Whether the server has closed `sock` (EOF or reset), waiting up to `wait` seconds."""
    readable, _, _ = select.select([sock], [], [], wait)
    if not readable:
        return False
    try:
        return sock.recv(65536, socket.MSG_PEEK) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


def _read_all(sock: socket.socket, limit: float = 5.0) -> bytes:
    sock.settimeout(limit)
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except (TimeoutError, ConnectionResetError):
        pass
    return b"".join(chunks)


def test_slowloris_is_cut_at_the_head_deadline(tmp_path: pathlib.Path) -> None:
    head = f"GET {STATS} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: {'a' * 200}\r\n\r\n".encode()
    with serving(tmp_path, header_timeout=1.0) as server, _connect(server) as sock:
        started = time.monotonic()
        cut_after = None
        for byte in head[:60]:  # 60 bytes at 0.2 s: 12 s at most, far past the deadline
            try:
                sock.send(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                cut_after = time.monotonic() - started
                break
            if _closed_by_server(sock, wait=0.2):
                cut_after = time.monotonic() - started
                break
        assert cut_after is not None, "a client dripping one header byte per 0.2 s was never cut"
        assert 0.8 <= cut_after <= 2.5, cut_after


def test_a_silent_connection_is_cut_at_the_head_deadline(tmp_path: pathlib.Path) -> None:
    with serving(tmp_path, header_timeout=0.5) as server, _connect(server) as sock:
        assert _closed_by_server(sock, wait=3.0)


def _read_response(sock: socket.socket) -> bytes:
    """One whole HTTP response with a Content-Length (head and body may come apart)."""
    sock.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    lengths = [line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
    length = int(lengths[0].split(b":")[1])
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def test_an_idle_keep_alive_connection_is_closed(tmp_path: pathlib.Path) -> None:
    with serving(tmp_path, keep_alive_timeout=1) as server, _connect(server) as sock:
        sock.sendall(f"GET {STATS} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        assert b"200 OK" in _read_response(sock)
        started = time.monotonic()
        assert _closed_by_server(sock, wait=4.0) and time.monotonic() - started < 3.0


def test_idle_connections_do_not_lock_out_a_new_client(tmp_path: pathlib.Path) -> None:
    with serving(tmp_path, max_connections=32, header_timeout=60) as server, ExitStack() as stack:
        idle = [stack.enter_context(_connect(server)) for _ in range(150)]
        slow = [stack.enter_context(_connect(server)) for _ in range(50)]
        for sock in slow:  # half a request head each
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: ")
        started = time.monotonic()
        response = httpx.get(server.base_url + STATS, timeout=5)
        assert_ok(response)
        assert time.monotonic() - started < 2.0
        time.sleep(0.2)  # let the evictions land
        still_open = [sock for sock in idle + slow if not _closed_by_server(sock)]
        assert len(still_open) <= 32, f"{len(still_open)} of 200 idle connections still held"


def test_at_the_limit_with_every_connection_busy_a_new_one_hears_503(tmp_path: pathlib.Path) -> None:
    busy_head = (  # a form upload whose body is still to come: the handler is reading it
        b"POST /client/v4/accounts/x/images/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 100\r\n\r\n"
    )
    with serving(tmp_path, max_connections=4, body_timeout=30) as server, ExitStack() as stack:
        busy = [stack.enter_context(_connect(server)) for _ in range(4)]
        for sock in busy:
            sock.sendall(busy_head)  # mid-request: waiting for its body
        time.sleep(0.2)
        with _connect(server) as late:
            answer = _read_all(late)
        assert answer.startswith(b"HTTP/1.1 503") and b"Too many connections" in answer
        assert not any(_closed_by_server(sock) for sock in busy)  # busy ones are not evicted


def test_a_body_that_does_not_arrive_in_time_is_408(tmp_path: pathlib.Path) -> None:
    head = (
        b"POST /client/v4/accounts/x/images/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 100000\r\n\r\n--x\r\n"
    )
    with serving(tmp_path, body_timeout=1.0) as server, _connect(server) as sock:
        started = time.monotonic()
        sock.sendall(head)
        answer = _read_all(sock, limit=6.0)  # the server closes after answering
        elapsed = time.monotonic() - started
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b'"code":5408' in answer and b"did not arrive in time" in answer
        assert 0.8 <= elapsed <= 3.0, elapsed
        with httpx.Client(base_url=server.base_url, timeout=5) as client:
            assert assert_ok(client.get(STATS))["count"]["current"] == 0


@pytest.mark.parametrize("bad", [{"max_connections": 0}, {"header_timeout": 0}, {"body_timeout": -1}])
def test_limits_must_be_positive(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        ServeLimits(**bad)


def test_a_huge_request_head_is_refused(tmp_path: pathlib.Path) -> None:
    with serving(tmp_path) as server:
        # h11 refuses a head still incomplete past max_header_bytes (one read may bring more)
        try:
            response = httpx.get(server.base_url + STATS, headers={"X-Big": "a" * 200_000}, timeout=5)
            assert response.status_code == 400
        except (httpx.ReadError, httpx.WriteError):  # answered 400 and closed mid-send: a reset
            pass
        assert_error(httpx.get(server.base_url + "/client/v4/nonesuch", timeout=5), 404, 7000)
