"""Getting bytes to the browser: gzip that never holds back a stream, and static files that
are cached for good once their URL names their content (`static_url`)."""

import hashlib
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC_DIR = Path(__file__).parent / "static"

COMPRESSIBLE = frozenset(
    {
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "text/event-stream",
        "application/json",
        "image/svg+xml",
        "text/plain",
    }
)
# Below this a complete body is sent as is: gzip's header and the CPU are not worth it.
MINIMUM_SIZE = 500


class Compress:
    """gzip for every compressible response the client accepts it for.

    Unlike a buffering compressor, each chunk of a streamed response (Datastar's SSE patches)
    is flushed as soon as it is compressed (Z_SYNC_FLUSH): the browser gets every event when
    the server sends it. Responses that are already encoded pass through untouched.
    """

    def __init__(self, app: ASGIApp, minimum_size: int = MINIMUM_SIZE) -> None:
        self.app = app
        self.minimum_size = minimum_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "gzip" not in Headers(scope=scope).get(
            "accept-encoding", ""
        ):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        compressor: Any = None  # a zlib compressor once the response is known to want one

        async def compressing_send(message: Message) -> None:
            nonlocal start, compressor
            if message["type"] == "http.response.start":
                start = message  # held until the first body chunk decides
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            body: bytes = message.get("body", b"")
            more = bool(message.get("more_body", False))
            if start is not None:
                headers = MutableHeaders(raw=start["headers"])
                kind = headers.get("content-type", "").split(";")[0].strip().lower()
                if (
                    kind in COMPRESSIBLE
                    and "content-encoding" not in headers
                    and start["status"] not in (204, 304)
                    and (more or len(body) >= self.minimum_size)
                ):
                    compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
                    headers["content-encoding"] = "gzip"
                    if "content-length" in headers:
                        del headers["content-length"]
                headers.add_vary_header("Accept-Encoding")
                await send(start)
                start = None
            if compressor is not None:
                flush = zlib.Z_SYNC_FLUSH if more else zlib.Z_FINISH
                message = {**message, "body": compressor.compress(body) + compressor.flush(flush)}
            await send(message)

        await self.app(scope, receive, compressing_send)


@lru_cache(maxsize=64)
def _fingerprint(path: Path, mtime_ns: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    """`/static/<name>?v=<content hash>`: a new build gets a new URL, so the browser may keep
    every version forever (see CachedStatic)."""
    path = STATIC_DIR / name
    try:
        version = _fingerprint(path, path.stat().st_mtime_ns)
    except OSError:  # not built (yet): the plain URL still works
        return f"/static/{name}"
    return f"/static/{name}?v={version}"


class CachedStatic(StaticFiles):
    """Static files: a fingerprinted URL (?v=…) is immutable for a year; any other URL is
    revalidated on every use (ETag / Last-Modified make that a 304)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v")
            current = static_url(path).partition("?v=")[2]
            response.headers["cache-control"] = (
                "public, max-age=31536000, immutable"
                if asked and current and asked[0] == current
                else "no-cache"
            )
        return response
