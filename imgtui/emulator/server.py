"""Running the emulator with uvicorn: in the foreground (`imgtui serve`) or on a background
thread with its own event loop (tests and benchmarks: real TCP, started in milliseconds)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections.abc import Callable

import uvicorn
from starlette.types import ASGIApp

from .app import create_app
from .faults import FaultInjector
from .guard import is_loopback
from .limits import protocol_for

__all__ = ["BackgroundEmulator", "base_url_for", "bind_socket", "is_loopback", "serve_forever"]
from .state import EmulatorState, ServeSettings

_WILDCARDS = ("0.0.0.0", "::", "")
GRACEFUL_SHUTDOWN_SECONDS = 5  # how long open requests may take to finish on stop


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind first, so port 0 is resolved before the app (and its variant URLs) is built."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP spelled out: asyncio only sets TCP_NODELAY on sockets whose proto says TCP,
    # and without it every answer written in two parts waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def base_url_for(settings: ServeSettings, sock: socket.socket) -> str:
    if settings.public_url:
        return settings.public_url.rstrip("/")
    port = sock.getsockname()[1]
    host = "127.0.0.1" if settings.host in _WILDCARDS else settings.host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _config(app: ASGIApp, settings: ServeSettings) -> uvicorn.Config:
    config = uvicorn.Config(
        app,
        lifespan="on",
        access_log=settings.access_log,
        log_level="warning",
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        # Our h11 protocol: head deadline and idle-first eviction (limits.py). uvicorn's
        # limit_concurrency is not used: it counts idle connections, so idle sockets alone
        # would turn every new client away.
        http=protocol_for(settings.limits),
        timeout_keep_alive=settings.limits.keep_alive_timeout,
        h11_max_incomplete_event_size=settings.limits.max_header_bytes,
    )
    if settings.access_log:
        # log_level="warning" keeps uvicorn's startup chatter out of the banner, but it also
        # silences the access log (INFO): lift just that logger. It logs request lines only.
        logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    return config


async def serve_forever(
    settings: ServeSettings, on_ready: Callable[[EmulatorState], None] | None = None
) -> None:
    """`imgtui serve`: until Ctrl+C (uvicorn handles the signals).

    Raises ImagesError when the library cannot be opened (read-only, damaged, newer schema):
    checked before uvicorn starts, where a failure would only be a traceback in its log.
    """
    sock = bind_socket(settings.host, settings.port)
    base_url = base_url_for(settings, sock)
    try:
        state = await EmulatorState.open(settings, base_url)  # opened once, in the server's loop
    except BaseException:
        sock.close()
        raise
    app = create_app(settings, base_url, on_ready, state=state)
    server = uvicorn.Server(_config(app, settings))
    await server.serve(sockets=[sock])


class BackgroundEmulator:
    """The emulator on a daemon thread. `start()` returns once it accepts connections."""

    def __init__(self, settings: ServeSettings) -> None:
        self.settings = settings
        self.state: EmulatorState | None = None
        self.app: ASGIApp | None = None
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        assert self.state is not None, "not started"
        return self.state.base_url

    @property
    def listen_url(self) -> str:
        """http://address:port of the listening socket (base_url may be a --public-url)."""
        assert self._sock is not None, "not started"
        host, port = self._sock.getsockname()[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    @property
    def faults(self) -> FaultInjector | None:
        """The fault injector (counts, scripting) when started with `faults`."""
        return self.app if isinstance(self.app, FaultInjector) else None

    @property
    def api_url(self) -> str:
        assert self.state is not None, "not started"
        return self.state.api_url

    def start(self, timeout: float = 10.0) -> BackgroundEmulator:
        self._sock = bind_socket(self.settings.host, self.settings.port)
        self.app = create_app(self.settings, base_url_for(self.settings, self._sock), self._on_ready)
        self._thread = threading.Thread(target=self._run, name="imgtui-serve", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("imgtui serve did not start in time")
        if self._error is not None:
            raise self._error
        return self

    def _on_ready(self, state: EmulatorState) -> None:
        self.state = state

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to start(); the thread just ends
            self._error = exc
        finally:
            self._ready.set()

    async def _main(self) -> None:
        assert self._sock is not None and self.app is not None  # start() sets both
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        config = _config(self.app, self.settings)
        config.load()
        server = uvicorn.Server(config)
        server.lifespan = config.lifespan_class(config)
        try:
            await server.startup(sockets=[self._sock])
        except SystemExit:
            raise RuntimeError("imgtui serve failed to start (see the log above)") from None
        self._ready.set()
        await self._stop.wait()
        await _quick_shutdown(server)

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._sock is not None:
            self._sock.close()

    def __enter__(self) -> BackgroundEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


async def _quick_shutdown(server: uvicorn.Server) -> None:
    """uvicorn's `shutdown()` always sleeps 100 ms; tests start and stop a server per test,
    so close idle connections and poll briefly instead."""
    servers = getattr(server, "servers", None)
    state = getattr(server, "server_state", None)
    if servers is None or state is None:  # another uvicorn: take the slow, public way
        await server.shutdown()
        return
    for listener in servers:
        listener.close()
    for connection in list(state.connections):
        connection.shutdown()
    loop = asyncio.get_running_loop()
    grace = server.config.timeout_graceful_shutdown  # None (uvicorn's "no limit") if not ours
    deadline = loop.time() + (GRACEFUL_SHUTDOWN_SECONDS if grace is None else grace)
    while (state.connections or state.tasks) and loop.time() < deadline:  # noqa: ASYNC110 - uvicorn offers no event
        await asyncio.sleep(0.002)
    for task in list(state.tasks):
        task.cancel()
    await server.lifespan.shutdown()
