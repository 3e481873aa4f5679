"""Serves realtime streams in front of FastAPI, for a small footprint per open stream.

An ASGI request keeps its whole call chain alive until the response ends — for a stream,
hours. Through FastAPI that chain is the middleware stack, the router, the dependency
machinery and its exit stacks: about twice the memory of an idle stream served here
(measured by bench/realtime in the dsgen repository), and every frame passes through
several `send` wrappers. Stream GETs are simple (no body, no form, no dependency), so
this dispatcher answers them directly and hands everything else (lifespan included) to
the FastAPI app untouched.

Each screen's FastAPI route for the same path stays (TestClient, the naive baseline):
this only takes precedence where `app.main` serves `RealtimeStreams`.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from fastapi import FastAPI, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send


@dataclass(frozen=True, slots=True)
class StreamRoute:
    path: str
    view: str  # the screen whose `ChannelView` feeds the stream
    # The subscriber group of a request (e.g. its search text): pages with equal keys
    # get the same frames.
    key: Callable[[Request], str]
    # Who may watch. Gets the request (headers, cookies, query) and returns a response to
    # refuse (e.g. 401), or None to allow. Put the app's session check here.
    guard: Callable[[Request], Awaitable[Response | None]] | None = None


class RealtimeStreams:
    def __init__(self, app: FastAPI, routes: Sequence[StreamRoute]) -> None:
        self.app = app
        self.routes = {route.path: route for route in routes}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.routes.get(scope["path"]) if scope["type"] == "http" else None
        realtime = getattr(self.app.state, "realtime", None)
        if route is None or scope["method"] != "GET" or realtime is None or realtime.naive:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if route.guard is not None and (refusal := await route.guard(request)) is not None:
            await refusal(scope, receive, send)
            return
        response = realtime.stream(request, route.view, route.key(request))
        await response(scope, receive, send)
