"""The emulator as an ASGI app: the REST API, image delivery, and optional fault injection."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Scope

from imgtui.service.signing import CDN_PREFIX, UPLOAD_PREFIX

from .api import API_PREFIX, api_endpoint, direct_upload_file
from .delivery import Renders, deliver
from .faults import FaultInjector
from .guard import HostPolicy, RequestGuard
from .limits import BodyDeadline
from .responses import INTERNAL_ERROR, NO_ROUTE, fail
from .state import EmulatorState, ServeSettings
from .tokens import verify_token
from .variants import RenderCache

logger = logging.getLogger("imgtui.serve")
_API_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]


async def _no_route(request: Request) -> Response:
    return fail(NO_ROUTE, "No route for that URI", status=404)


async def _internal_error(request: Request, exc: Exception) -> Response:
    logger.exception("unexpected error answering %s %s", request.method, request.url.path)
    return fail(INTERNAL_ERROR, "Internal server error", status=500)


def create_app(
    settings: ServeSettings,
    base_url: str,
    on_ready: Callable[[EmulatorState], None] | None = None,
    state: EmulatorState | None = None,
) -> ASGIApp:
    """The app serving `settings.library`; `base_url` is how clients reach it (for variant URLs).

    The library is opened in the server's own event loop at startup, unless the caller opened
    it already in that loop (`state`); either way the app closes it at shutdown.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        opened = state if state is not None else await EmulatorState.open(settings, base_url)
        app.state.emulator = opened
        if on_ready is not None:
            on_ready(opened)
        try:
            yield
        finally:
            await opened.aclose()

    app = Starlette(
        routes=[
            Route(API_PREFIX + "/accounts/{account}/images/{rest:path}", api_endpoint, methods=_API_METHODS),
            Route(API_PREFIX + "/user/tokens/verify", verify_token, methods=["GET"]),
            Route(API_PREFIX + "/{rest:path}", _no_route, methods=_API_METHODS),
            Route(CDN_PREFIX + "/{rest:path}", deliver, methods=["GET", "HEAD"]),
            Route(UPLOAD_PREFIX + "/{rest:path}", direct_upload_file, methods=["POST"]),
            # imagedelivery.net's path form, /<account hash>/<id>/<variant> (others: 404)
            Route("/{rest:path}", deliver, methods=["GET", "HEAD"]),
        ],
        exception_handlers={Exception: _internal_error},
        lifespan=lifespan,
    )
    app.state.render_cache = RenderCache()
    app.state.renders = Renders()
    timed = BodyDeadline(app, settings.limits.body_timeout)
    guarded = RequestGuard(timed, HostPolicy.for_server(settings.host, base_url, settings.public_url))
    if settings.faults is None:
        return guarded

    def is_api(scope: Scope) -> bool:
        return scope["path"].startswith(API_PREFIX + "/")

    # Outside the guard, so `BackgroundEmulator.faults` finds it; a refused request is
    # refused whatever fault it drew.
    return FaultInjector(guarded, settings.faults, is_api)
