"""How long and how many: connection limits and read deadlines for `imgtui serve`.

uvicorn alone holds a connection for as long as the client likes: it has no deadline for a
request head (a client sending one byte every few seconds is never cut: each byte even
cancels the keep-alive timer), none for a body, and `limit_concurrency` counts idle
connections too, so a few hundred idle sockets would turn every new client away with 503.
So the HTTP protocol here adds a head deadline and, at the connection limit, closes the
longest-idle connection to make room; the app adds a body deadline.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\ncontent-length: 36\r\n\r\nToo many connections; try again soon"
)


@dataclass(frozen=True, slots=True)
class ServeLimits:
    max_connections: int = 256  # open at once; past it the longest-idle one is closed
    header_timeout: float = 10.0  # seconds to send a whole request head (from connect or the last answer)
    body_timeout: float = 60.0  # seconds to send a whole body (10 MiB over a slow uplink)
    keep_alive_timeout: int = 5  # seconds an idle keep-alive connection stays open
    max_header_bytes: int = 16 * 1024  # a request head larger than this is refused (h11)

    def __post_init__(self) -> None:
        if (
            self.max_connections < 1
            or min(self.header_timeout, self.body_timeout, self.keep_alive_timeout) <= 0
        ):
            raise ValueError("connection limits and timeouts must be positive")


class DeadlineH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a request-head deadline and idle-first eviction.

    Between a connection's start (or its last answer) and a complete request head it is
    "waiting for a head": only such connections are timed here and only they are evicted.
    One in the middle of a request is left to the body deadline and to the app.
    """

    limits = ServeLimits()  # replaced per server by `protocol_for`

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._waiting_since: float | None = None  # None: a request is under way
        self._cycle_waited_after: object = None  # the cycle that was current when waiting began

    # -- waiting for a head -------------------------------------------------------------

    def _start_waiting(self) -> None:
        self._stop_waiting()
        self._waiting_since = self.loop.time()
        self._cycle_waited_after = self.cycle
        self._head_timer = self.loop.call_later(self.limits.header_timeout, self._head_too_slow)

    def _stop_waiting(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        self._waiting_since = None

    def _check_head_arrived(self) -> None:
        # uvicorn makes a new cycle for each request head it parses.
        if self._waiting_since is not None and self.cycle is not self._cycle_waited_after:
            self._stop_waiting()

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._waiting_since is not None and not self.transport.is_closing():
            self.transport.close()

    @property
    def idle_since(self) -> float | None:
        return self._waiting_since

    # -- the uvicorn hooks --------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.limits.max_connections and not _evict_longest_idle(self.connections):
            transport.write(_BUSY)  # every connection is mid-request: this one must wait
            transport.close()
            return
        super().connection_made(transport)
        self._start_waiting()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._check_head_arrived()

    def on_response_complete(self) -> None:
        if not self.transport.is_closing():
            self._start_waiting()
        super().on_response_complete()  # may parse a pipelined head at once
        self._check_head_arrived()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        if self.transport is None:  # refused in connection_made: never joined the server
            return
        super().connection_lost(exc)


def _evict_longest_idle(connections: set[Any]) -> bool:
    idle = [c for c in connections if isinstance(c, DeadlineH11Protocol) and c.idle_since is not None]
    if not idle:
        return False
    oldest = min(idle, key=lambda connection: connection.idle_since or 0.0)
    oldest.transport.close()
    connections.discard(oldest)  # closed now; connection_lost follows on the next loop turn
    return True


def protocol_for(limits: ServeLimits) -> type[DeadlineH11Protocol]:
    """A protocol class bound to these limits (uvicorn instantiates it per connection)."""
    return type("LimitedH11Protocol", (DeadlineH11Protocol,), {"limits": limits})


# -- the body deadline ----------------------------------------------------------------------

_DEADLINE_KEY = "imgtui.body_deadline"


@dataclass(slots=True)
class _BodyClock:
    expired: bool = False


def body_deadline_expired(scope: Scope) -> bool:
    """Whether this request's body stopped because its deadline passed (the app then answers
    408 instead of treating it as the client's disconnect)."""
    clock = scope.get(_DEADLINE_KEY)
    return isinstance(clock, _BodyClock) and clock.expired


class BodyDeadline:
    """ASGI middleware: a request body must arrive whole within `seconds` of the request's
    start. Past that the app receives `http.disconnect` (handlers already stop cleanly on a
    client that goes away) and `body_deadline_expired(scope)` says why."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        clock = _BodyClock()
        scope[_DEADLINE_KEY] = clock
        body_done = False

        async def receive_in_time() -> Message:
            nonlocal body_done
            if body_done or clock.expired:  # later receives wait for a disconnect: not timed
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                clock.expired = True
                return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        await self.app(scope, receive_in_time, send)
