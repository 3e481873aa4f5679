"""Server-sent events for Datastar v1: `datastar-patch-elements` and `datastar-patch-signals`.

Each function returns one complete SSE event as text (ending in a blank line); join them
and encode once to build a frame. The wire format follows the Datastar SDK spec and is
checked against the official SDK conformance cases (tests/test_sse_conformance.py):

- defaults are omitted (`mode outer`, `namespace html`, `useViewTransition false`,
  `onlyIfMissing false`, `retry 1000`);
- multi-line payloads become one `data:` line each, split only on CR, LF or CRLF.
  (`str.splitlines()` would also split on U+2028, U+0085, form feed… and the browser
  would get newlines that were never in the HTML.)
"""

import html
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

PATCH_ELEMENTS = "datastar-patch-elements"
PATCH_SIGNALS = "datastar-patch-signals"

MODES = frozenset({"outer", "inner", "replace", "prepend", "append", "before", "after", "remove"})
NAMESPACES = frozenset({"html", "svg", "mathml"})
DEFAULT_RETRY_MS = 1000

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _lines(text: str) -> list[str]:
    return _LINE_BREAK.split(text)


def _single_line(name: str, value: str) -> str:
    if _LINE_BREAK.search(value):
        raise ValueError(f"SSE {name} must be a single line: {value!r}")
    return value


def _event(event: str, data: list[str], event_id: str | int | None, retry_ms: int | None) -> str:
    out = [f"event: {event}\n"]
    if event_id is not None:
        out.append(f"id: {_single_line('id', str(event_id))}\n")
    if retry_ms is not None and retry_ms != DEFAULT_RETRY_MS:
        out.append(f"retry: {int(retry_ms)}\n")
    out.extend(f"data: {line}\n" for line in data)
    out.append("\n")
    return "".join(out)


def patch_elements(
    elements: str | None = None,
    *,
    selector: str | None = None,
    mode: str = "outer",
    namespace: str = "html",
    use_view_transition: bool = False,
    event_id: str | int | None = None,
    retry_ms: int | None = None,
) -> str:
    """Morph, insert or remove elements. Without a selector, each top-level element's id
    is its target (only `outer` and `replace` work that way)."""
    if mode not in MODES:
        raise ValueError(f"unknown patch mode {mode!r}")
    if namespace not in NAMESPACES:
        raise ValueError(f"unknown namespace {namespace!r}")
    data: list[str] = []
    if selector:
        data.append(f"selector {_single_line('selector', selector)}")
    if mode != "outer":
        data.append(f"mode {mode}")
    if namespace != "html":
        data.append(f"namespace {namespace}")
    if use_view_transition:
        data.append("useViewTransition true")
    if elements:
        data.extend(f"elements {line}" for line in _lines(elements))
    return _event(PATCH_ELEMENTS, data, event_id, retry_ms)


def remove_elements(
    selector: str, *, event_id: str | int | None = None, retry_ms: int | None = None
) -> str:
    return patch_elements(selector=selector, mode="remove", event_id=event_id, retry_ms=retry_ms)


def to_json(value: Any) -> str:
    """Compact JSON, as the SDKs write it (a JSON text never holds a raw CR or LF)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def patch_signals(
    signals: Mapping[str, Any] | None = None,
    *,
    raw: str | None = None,
    only_if_missing: bool = False,
    event_id: str | int | None = None,
    retry_ms: int | None = None,
) -> str:
    """Merge signals (JSON Merge Patch, RFC 7386: `None` deletes). `raw` sends
    already-serialised JSON as is, one data line per line."""
    if (signals is None) == (raw is None):
        raise ValueError("pass exactly one of signals or raw")
    text = raw if raw is not None else to_json(signals)
    data: list[str] = []
    if only_if_missing:
        data.append("onlyIfMissing true")
    data.extend(f"signals {line}" for line in _lines(text))
    return _event(PATCH_SIGNALS, data, event_id, retry_ms)


def _attribute(value: Any) -> str:
    if isinstance(value, bool):
        value = "true" if value else "false"
    return html.escape(str(value), quote=True)


def execute_script(
    script: str,
    *,
    attributes: Mapping[str, Any] | None = None,
    auto_remove: bool = True,
    event_id: str | int | None = None,
    retry_ms: int | None = None,
) -> str:
    """Run JavaScript in the page: a <script> appended to <body> (v1 has no execute-script
    event). The script is trusted code: never interpolate user input into it."""
    attrs = "".join(f' {name}="{_attribute(v)}"' for name, v in (attributes or {}).items())
    if auto_remove:
        attrs += ' data-effect="el.remove()"'
    return patch_elements(
        f"<script{attrs}>{script}</script>",
        selector="body",
        mode="append",
        event_id=event_id,
        retry_ms=retry_ms,
    )


def comment(text: str = "") -> str:
    """A comment block: ignored by the client, keeps idle connections alive."""
    return "".join(f":{' ' if line else ''}{line}\n" for line in _lines(text)) + "\n"


def checkpoint(event_id: str | int, *, retry_ms: int | None = None) -> str:
    """An id-only block: dispatches nothing, but sets the id the browser sends back as
    `Last-Event-ID` when it reconnects. Sent last in a frame, so a frame cut short by a
    dropped connection is replayed instead of being counted as delivered."""
    out = f"id: {_single_line('id', str(event_id))}\n"
    if retry_ms is not None:
        out += f"retry: {int(retry_ms)}\n"
    return out + "\n"


def encode(events: Iterable[str]) -> bytes:
    """One frame: several events written (and sent to every subscriber) as one chunk."""
    return "".join(events).encode()
