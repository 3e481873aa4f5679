"""Security headers on every response, and the per-request CSP nonce the templates use.

The policy allows scripts from this origin and inline scripts carrying this request's nonce,
nothing else. Datastar v1.0.4 supports exactly that: the page puts the nonce on
`<html data-nonce="…">`, and Datastar compiles every `data-*` expression (and every
`<script>` an SSE patch brings) into a script element carrying that nonce, instead of
calling `Function` — so the policy needs no `'unsafe-eval'`.

Style *attributes* (`style="left: 12%"`, computed on the server, and Datastar's own
`data-show`) are allowed (`style-src-attr 'unsafe-inline'`): a nonce cannot cover an
attribute, and CSS in an attribute cannot run script. `<style>` elements need the nonce.
"""

import secrets
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The nonce of the request being served: set here, read by the `csp_nonce()` Jinja global.
_NONCE: ContextVar[str] = ContextVar("csp_nonce", default="")
SCOPE_KEY = "app.csp_nonce"


def csp_nonce() -> str:
    """This request's nonce, for `nonce="{{ csp_nonce() }}"` on inline scripts and styles."""
    return _NONCE.get()


def content_security_policy(nonce: str) -> str:
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        f"style-src-elem 'self' 'nonce-{nonce}'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def security_headers(nonce: str) -> dict[str, str]:
    """The headers every response carries (HTML, SSE, static files, errors)."""
    return {
        "Content-Security-Policy": content_security_policy(nonce),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


class SecurityHeaders:
    """ASGI middleware: a fresh nonce per request, and the headers on its response.

    Idempotent: the app is wrapped twice where realtime streams are answered in front of
    FastAPI (app/main.py); the outer layer's nonce is reused and a header already set is
    kept.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = scope.get(SCOPE_KEY) or secrets.token_urlsafe(18)
        scope[SCOPE_KEY] = nonce
        _NONCE.set(nonce)
        extra = [(k.lower().encode(), v.encode()) for k, v in security_headers(nonce).items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in extra if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
