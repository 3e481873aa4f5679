"""Request limits, in one layer in front of every route: what the app refuses to read.

- a body larger than `max_body_bytes` (forms, JSON signals): 413; one that takes longer
  than `body_timeout_s` to arrive: 408 (bodies are read whole before any route runs);
- NUL in the address or in a form/JSON body (PostgreSQL text cannot hold it): 400;
- other control characters in the address: 400;
- a query value longer than `max_query_value_chars`, a search (`q`) longer than
  `max_search_chars`: 414 / 422 (a search is re-run on every change and, on a live screen,
  is the key of a stream: its length is its cost);
- `?datastar=` signals nested deeper than `max_signal_depth` (or too big): 400.

A refused Datastar request gets a toast with the reason (Datastar ignores the body of a
non-200 response, see app/web.py); its real status is in `X-Refused-Status`. Other
clients get the status and a plain-text reason.
"""

import asyncio
import json
from collections.abc import Callable
from typing import Any

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import Settings

# C0 controls and DEL. Tab, LF and CR are fine in a query value (a pasted search).
_CONTROL = frozenset(chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])


class Refused(HTTPException):
    """A request this app will not serve; `message` is shown to the user. An
    HTTPException, so that raised while a route reads its body it still becomes the
    refusal (FastAPI turns other exceptions from body parsing into a bare 400)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message


def json_depth(text: str | bytes) -> int:
    """How deeply arrays and objects nest in a JSON text (a linear scan, no recursion)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def parse_signals(raw: str | bytes, max_depth: int) -> dict[str, Any]:
    """Datastar signals (a JSON object) from a body or `?datastar=`; {} when they are not
    readable: malformed, nested deeper than `max_depth`, or holding a NUL."""
    if not raw or json_depth(raw) > max_depth:
        return {}
    try:
        signals = json.loads(raw)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(signals, dict) or "\x00" in json.dumps(signals):
        return {}
    return signals


def strict_int(raw: str | None, *, digits: int = 19) -> int | None:
    """A non-negative integer of ASCII digits that fits a bigint, else None (never raises:
    `"²".isdigit()` is true and a 5,000-digit number exceeds Python's int-parsing limit)."""
    if raw is None:
        return None
    raw = raw.strip()
    if not raw or len(raw) > digits or not raw.isascii() or not raw.isdigit():
        return None
    value = int(raw)
    return value if value <= 2**63 - 1 else None


def check_query(query: list[tuple[str, str]], settings: Settings) -> None:
    """Raise `Refused` for a query string the app will not read."""
    for name, value in query:
        text = name + value
        if "\x00" in text:
            raise Refused(400, "The address contains a NUL character.")
        if not _CONTROL.isdisjoint(text):
            raise Refused(400, "The address contains control characters.")
        if name == "datastar":
            if len(value) > settings.max_body_bytes:
                raise Refused(414, "The request's signals are too large.")
            if json_depth(value) > settings.max_signal_depth:
                raise Refused(400, "The request's signals are nested too deeply.")
        elif name == "q" and len(value) > settings.max_search_chars:
            raise Refused(422, f"Search for at most {settings.max_search_chars} characters.")
        elif len(value) > settings.max_query_value_chars:
            raise Refused(414, "The address is too long.")


def refusal(scope: Scope, status: int, message: str) -> Response:
    """The answer to a refused request (also app/main.py's, for a `Refused` raised inside)."""
    if Headers(scope=scope).get("datastar-request") == "true":
        from app.web import sse, toast  # the app's own toast; web imports nothing from here

        response: Response = sse([toast(message, "error")])
        response.headers["X-Refused-Status"] = str(status)
        return response
    return PlainTextResponse(message, status_code=status)


def _has_body(scope: Scope) -> bool:
    headers = Headers(scope=scope)
    length = headers.get("content-length")
    return (length is not None and length.strip() != "0") or "transfer-encoding" in headers


class _BodyState:
    def __init__(self) -> None:
        self.size = 0
        self.tail = b""


class RequestLimits:
    """ASGI middleware applying the limits above before the app reads anything."""

    def __init__(self, app: ASGIApp, settings: Callable[[], Settings]) -> None:
        self.app = app
        self._settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = self._settings()
        try:
            self._check_head(scope, settings)
        except Refused as exc:
            await refusal(scope, exc.status, exc.message)(scope, receive, send)
            return
        if not _has_body(scope):
            await self.app(scope, receive, send)
            return
        # The whole body is read here, before any route runs: a client dribbling its body
        # (slow-loris) holds no database connection a route would take first, and no route
        # ever sees more than max_body_bytes.
        try:
            body = await asyncio.wait_for(
                self._read_body(scope, receive, settings), settings.body_timeout_s
            )
        except TimeoutError:
            body = None
        except Refused as exc:
            await refusal(scope, exc.status, exc.message)(scope, receive, send)
            return
        if body is None:
            message = "The request's body arrived too slowly."
            await refusal(scope, 408, message)(scope, receive, send)
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # then only the disconnect

        await self.app(scope, replay, send)

    async def _read_body(self, scope: Scope, receive: Receive, settings: Settings) -> bytes:
        state = _BodyState()
        kind = Headers(scope=scope).get("content-type", "").split(";")[0].strip().lower()
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                raise Refused(400, "The client went away.")
            chunk = message.get("body", b"")
            self._check_chunk(chunk, state, kind, settings)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _check_head(self, scope: Scope, settings: Settings) -> None:
        from urllib.parse import parse_qsl

        raw = scope.get("query_string", b"")
        if b"\x00" in raw:
            raise Refused(400, "The address contains a NUL character.")
        if raw:
            check_query(parse_qsl(raw.decode("latin-1"), keep_blank_values=True), settings)
        length = Headers(scope=scope).get("content-length")
        if length is not None:
            size = strict_int(length)
            if size is None:
                raise Refused(400, "The request's Content-Length is not a number.")
            if size > settings.max_body_bytes:
                raise Refused(413, _too_large(settings))

    def _check_chunk(self, body: bytes, state: _BodyState, kind: str, settings: Settings) -> None:
        state.size += len(body)
        if state.size > settings.max_body_bytes:
            raise Refused(413, _too_large(settings))
        # Text bodies only: a multipart file may hold any byte.
        if kind == "application/x-www-form-urlencoded":
            window = (state.tail + body).lower()
            if b"%00" in window or b"\x00" in window:
                raise Refused(400, "The form contains a NUL character; remove it and try again.")
            state.tail = window[-2:]
        elif kind == "application/json":
            window = state.tail + body
            if b"\\u0000" in window or b"\x00" in window:
                raise Refused(400, "The request contains a NUL character.")
            state.tail = window[-5:]


def _too_large(settings: Settings) -> str:
    return f"The request is too large (at most {settings.max_body_bytes // 1024} KiB)."


# Live streams: how many one client may hold, and how many distinct groups (keys: a
# search, a zoom, a month) one screen's streams may form. Every key is a query re-run on
# each change of the screen's table, so keys are what a flood of odd URLs would multiply.


class StreamGate:
    """Counts the open streams per client and the distinct keys per screen (per process)."""

    def __init__(self, per_client: int, keys_per_view: int) -> None:
        self.per_client = per_client
        self.keys_per_view = keys_per_view
        self._clients: dict[str, int] = {}
        self._keys: dict[str, dict[str, int]] = {}

    def admit(self, request: Any, view: str, key: str) -> Response | None:
        """None when the stream may open (it is then counted until `release`), else the
        refusal: 429 with Retry-After. Datastar treats it as an error and, with the live
        screens' `retry: 'always'`, tries again after its backoff (at most
        `realtime_retry_max_wait_ms`), so a page over the cap goes live once there is room."""
        client = request.client.host if request.client else ""
        if self._clients.get(client, 0) >= self.per_client:
            return _too_many("Too many live pages are open from this address; close some.")
        keys = self._keys.setdefault(view, {})
        if key not in keys and len(keys) >= self.keys_per_view:
            return _too_many("Too many different live views of this screen are open.")
        self._clients[client] = self._clients.get(client, 0) + 1
        keys[key] = keys.get(key, 0) + 1
        return None

    def release(self, request: Any, view: str, key: str) -> None:
        client = request.client.host if request.client else ""
        _decrement(self._clients, client)
        _decrement(self._keys.get(view, {}), key)

    def open_streams(self, client: str) -> int:
        return self._clients.get(client, 0)

    def open_keys(self, view: str) -> int:
        return len(self._keys.get(view, {}))


def _decrement(counts: dict[str, int], name: str) -> None:
    left = counts.get(name, 0) - 1
    if left > 0:
        counts[name] = left
    else:
        counts.pop(name, None)


def _too_many(message: str) -> Response:
    return PlainTextResponse(message, status_code=429, headers={"Retry-After": "5"})


class Gated(Response):
    """A stream response counted by a `StreamGate` while it runs."""

    def __init__(self, inner: Response, release: Callable[[], None]) -> None:
        # Not Response.__init__: the inner response sends its own start and body.
        self.inner = inner
        self.status_code = inner.status_code
        self.background = None
        self.raw_headers = inner.raw_headers
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.inner(scope, receive, send)
        finally:
            self._release()
