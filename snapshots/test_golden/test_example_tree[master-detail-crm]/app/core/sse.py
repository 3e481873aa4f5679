"""The app's one SSE encoder: Datastar v1 events, built on datastar-py.

Every answer of a screen (app/web.py) and every frame of a realtime stream (app/realtime/)
is made of these events. Each function returns one complete event as text (datastar-py's
`DatastarEvent`, a str ending in a blank line); `encode` joins several into one frame. The
wire format is checked against the official SDK conformance cases
(tests/test_realtime_sse.py, where the app streams).

What this adds to datastar-py: modes and namespaces are checked; an id or a selector must
be one line; and payloads split into `data:` lines on CR and LF only. (datastar-py splits
with `str.splitlines()`, which also breaks on U+2028, form feed…: the browser would get
newlines that were never in the HTML. Those characters are sent as character references
instead, which HTML reads back as the same characters. U+0085 cannot be rescued this way:
HTML maps &#133; to "…" (Windows-1252 legacy), so it arrives as a line break.)
"""

from collections.abc import Iterable, Mapping
from typing import Any

from datastar_py.consts import ElementPatchMode, ElementPatchNamespace
from datastar_py.sse import DatastarEvent
from datastar_py.sse import ServerSentEventGenerator as SSE

# The characters str.splitlines() breaks on besides CR and LF, as HTML character references
# (for elements) and as JSON escapes (for raw signals, where they may only stand in strings).
_BREAKERS = ("\v", "\f", "\x1c", "\x1d", "\x1e", "\u2028", "\u2029")
_HTML_BREAKERS = str.maketrans({c: f"&#{ord(c)};" for c in _BREAKERS})
_JSON_BREAKERS = str.maketrans({c: f"\\u{ord(c):04x}" for c in (*_BREAKERS, "\x85")})


def _one_line(name: str, value: str | int | None) -> str | None:
    if value is None:
        return None
    text = str(value)
    if any(c in text for c in "\r\n"):
        raise ValueError(f"SSE {name} must be a single line: {text!r}")
    return text


def patch_elements(
    elements: str | None = None,
    *,
    selector: str | None = None,
    mode: str = "outer",
    namespace: str = "html",
    use_view_transition: bool = False,
    event_id: str | int | None = None,
    retry_ms: int | None = None,
) -> DatastarEvent:
    """Morph, insert or remove elements. Without a selector, each top-level element's id
    is its target (only `outer` and `replace` work that way). An unknown mode or namespace
    is a ValueError."""
    return SSE.patch_elements(
        elements.translate(_HTML_BREAKERS) if elements else "",
        selector=_one_line("selector", selector),
        mode=ElementPatchMode(mode),
        namespace=ElementPatchNamespace(namespace),
        use_view_transition=use_view_transition,
        event_id=_one_line("id", event_id),
        retry_duration=retry_ms,
    )


def remove_elements(selector: str) -> DatastarEvent:
    return patch_elements(selector=selector, mode="remove")


def patch_signals(
    signals: Mapping[str, Any] | None = None,
    *,
    raw: str | None = None,
    only_if_missing: bool = False,
    event_id: str | int | None = None,
    retry_ms: int | None = None,
) -> DatastarEvent:
    """Merge signals (JSON Merge Patch, RFC 7386: `None` deletes). `raw` sends
    already-serialised JSON as is, one data line per line."""
    if (signals is None) == (raw is None):
        raise ValueError("pass exactly one of signals or raw")
    return SSE.patch_signals(
        raw.translate(_JSON_BREAKERS) if raw is not None else dict(signals or {}),
        only_if_missing=only_if_missing,
        event_id=_one_line("id", event_id),
        retry_duration=retry_ms,
    )


def _attribute(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def execute_script(
    script: str,
    *,
    attributes: Mapping[str, Any] | None = None,
    auto_remove: bool = True,
    event_id: str | int | None = None,
    retry_ms: int | None = None,
) -> DatastarEvent:
    """Run JavaScript in the page: a <script> appended to <body> (v1 has no execute-script
    event). The script is trusted code: never interpolate user input into it."""
    return SSE.execute_script(
        script,
        auto_remove=auto_remove,
        attributes={name: _attribute(v) for name, v in (attributes or {}).items()},
        event_id=_one_line("id", event_id),
        retry_duration=retry_ms,
    )


# Below the events: SSE blocks a realtime stream needs that carry no Datastar event.


def comment(text: str = "") -> str:
    """A comment block: ignored by the client, keeps idle connections alive."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "".join(f":{' ' if line else ''}{line}\n" for line in lines) + "\n"


def checkpoint(event_id: str | int, *, retry_ms: int | None = None) -> str:
    """An id-only block: dispatches nothing, but sets the id the browser sends back as
    `Last-Event-ID` when it reconnects. Sent last in a frame, so a frame cut short by a
    dropped connection is replayed instead of being counted as delivered."""
    out = f"id: {_one_line('id', event_id)}\n"
    if retry_ms is not None:
        out += f"retry: {int(retry_ms)}\n"
    return out + "\n"


def encode(events: Iterable[str]) -> bytes:
    """One frame: several events written (and sent to every subscriber) as one chunk."""
    return "".join(events).encode()
