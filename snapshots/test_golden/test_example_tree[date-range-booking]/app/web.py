"""Datastar glue shared by every screen: request checks, SSE events, page responses."""

import json
from collections.abc import Iterable
from typing import Any

from datastar_py.fastapi import DatastarResponse
from datastar_py.sse import DatastarEvent
from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse

from app.core import sse as encoder
from app.core.config import get_settings
from app.core.limits import parse_signals
from app.registry import APP_TITLE, SPEC_SIGNALS
from app.templating import render, templates

# Same URL, two representations (full document vs. SSE patches): keep caches apart.
VARY = {"Vary": "Datastar-Request"}


def is_datastar(request: Request) -> bool:
    return request.headers.get("datastar-request") == "true"


async def require_datastar(request: Request) -> None:
    """Dependency for every mutating route (POST/PUT/DELETE).

    Datastar sends `Datastar-Request: true` with every action. A cross-site <form> post
    cannot set a custom header, and a cross-site fetch() that sets one must pass a CORS
    preflight this app never grants: requiring the header is a cheap CSRF defence.
    """
    if not is_datastar(request):
        raise HTTPException(status_code=403, detail="Datastar-Request header required")


async def client_signals(request: Request) -> dict[str, Any]:
    """The signals Datastar sent (GET/DELETE: ?datastar=…, others: JSON body); {} if none
    or not readable (malformed, nested too deeply, holding a NUL: app/core/limits.py)."""
    depth = _signal_depth(request)
    if request.method in ("GET", "DELETE"):
        return parse_signals(request.query_params.get("datastar", ""), depth)
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return {}
    return parse_signals(await request.body(), depth)


def _signal_depth(request: Request) -> int:
    settings = getattr(request.app.state, "settings", None) or get_settings()
    return int(settings.max_signal_depth)


def is_mounted(signals: dict[str, Any], screen: str, q: str) -> bool:
    """Is this screen, with this search, already on the client's page?"""
    return signals.get("view") == {"screen": screen, "q": q}


# SSE events (app/core/sse.py, the app's one encoder).


def patch(html: str, selector: str | None = None, mode: str | None = None) -> DatastarEvent:
    """Patch elements. Without a selector the top-level element's id is the target (morph)."""
    return encoder.patch_elements(html, selector=selector, mode=mode or "outer")


def patch_signals(signals: dict[str, Any]) -> DatastarEvent:
    return encoder.patch_signals(signals)


TOAST_LEVELS = ("success", "info", "warning", "error")
# How long a success/info/warning toast stays (paused while hovered or focused); an error
# stays until it is closed.
TOAST_TIMEOUT_MS = 5000


def toast(message: str, level: str = "success") -> DatastarEvent:
    """A toast appended to #toasts: success, info, warning or error (templates/_toast.html)."""
    if level not in TOAST_LEVELS:
        raise ValueError(f"unknown toast level {level!r}; use one of {', '.join(TOAST_LEVELS)}")
    html = render("_toast.html", message=message, level=level, timeout_ms=TOAST_TIMEOUT_MS)
    return patch(html, selector="#toasts", mode="append")


CONFIRM_TONES = ("danger", "primary")


def confirm(
    title: str,
    message: str,
    action: str,
    *,
    confirm_label: str = "Delete",
    tone: str = "danger",
    dialog_id: str = "confirm-dialog",
) -> list[DatastarEvent]:
    """Open the app's confirmation dialog (templates/_confirm.html) from a response.

    `action` is the Datastar expression its confirm button runs (e.g. an @delete(...) the
    caller builds with js_string); title and message are text. The dialog is patched into
    #overlays (the same id again replaces it: idempotent), then opened as a modal on top of
    whatever is open; Cancel or Escape closes only it and gives the focus back.
    """
    if tone not in CONFIRM_TONES:
        raise ValueError(f"unknown confirm tone {tone!r}; use one of {', '.join(CONFIRM_TONES)}")
    html = render(
        "_confirm.html", dialog_id=dialog_id, title=title, message=message, action=action,
        confirm_label=confirm_label, tone=tone,
    )
    return [
        patch(f'<div id="overlays">{html}</div>'),
        encoder.execute_script(f"appUi.openDialog({js_string(dialog_id)})"),
    ]


def js_string(value: str) -> str:
    """A JS string literal that is also safe inside a <script> element."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def push_url(url: str, title: str) -> DatastarEvent:
    """Point the address bar at `url` (a new history entry) and retitle the tab.

    Idempotent: a popstate re-fetch lands on the URL it is already at, so nothing is pushed.
    """
    full_title = f"{title} · {APP_TITLE}"
    script = (
        f"{{const u = new URL({js_string(url)}, location.href);"
        " if (u.href !== location.href) history.pushState(null, '', u);"
        f" document.title = {js_string(full_title)};}}"
    )
    return encoder.execute_script(script)


def replace_url(url: str) -> DatastarEvent:
    """Point the address bar at `url` without a history entry (typing in a filter)."""
    script = (
        f"{{const u = new URL({js_string(url)}, location.href);"
        " history.replaceState(history.state, '', u);}"
    )
    return encoder.execute_script(script)


def focus(element_id: str) -> DatastarEvent:
    """Move the keyboard focus to the element with this id (after a morph, which does not
    run its data-init again)."""
    return encoder.execute_script(f"document.getElementById({js_string(element_id)})?.focus()")


def replace_query(q: str) -> DatastarEvent:
    """Keep ?q= in the address bar in step with the search box, without a history entry."""
    script = (
        "{const u = new URL(location.href);"
        f" const q = {js_string(q)};"
        " if (q) u.searchParams.set('q', q); else u.searchParams.delete('q');"
        " history.replaceState(history.state, '', u);}"
    )
    return encoder.execute_script(script)


def sse(events: Iterable[DatastarEvent]) -> DatastarResponse:
    # Always 200: Datastar v1.0.4 ignores the body of any non-200 response.
    return DatastarResponse(list(events))


# Pages.


def initial_signals(screen: str, q: str, selected_id: str) -> dict[str, Any]:
    return {
        **SPEC_SIGNALS,
        # Which screen and search the page shows: lets the server patch only what changed.
        "view": {"screen": screen, "q": q},
        # Client-only: the highlighted row, in-flight indicators, the last request error.
        "_selectedId": selected_id,
        "_nav": False,
        "_detail": False,
        "_search": False,
        "_saving": False,
        "_error": "",
    }


def page(
    request: Request,
    template: str,
    *,
    screen: str,
    title: str,
    q: str = "",
    selected_id: str = "",
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """The whole document, rendered on the server: the first paint already has the data."""
    return templates.TemplateResponse(
        request,
        template,
        {
            "active": screen,
            "page_title": f"{title} · {APP_TITLE}",
            "signals": initial_signals(screen, q, selected_id),
            "q": q,
            "selected_id": selected_id,
            **context,
        },
        status_code=status_code,
        headers=VARY,
    )


def screen_events(html: str, *, screen: str, q: str, selected_id: str) -> list[DatastarEvent]:
    """Swap in another screen: its markup, the active nav item, and the view signals."""
    return [
        patch(html),
        patch(render("_nav.html", active=screen)),
        patch(render("_crumb.html", active=screen)),
        patch(render("_tabbar.html", active=screen)),
        patch_signals({"view": {"screen": screen, "q": q}, "_selectedId": selected_id}),
    ]
