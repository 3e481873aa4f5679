"""`/test`: the Datastar SDK conformance endpoint (only with `test_mode` on).

Reads `{"events": [...]}` from the signals (`?datastar=` for GET/DELETE, the body
otherwise), emits each event with `app.core.sse`, and closes the stream. No heartbeat, no
checkpoint: the official comparison allows no extra fields.
"""

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from app.core import sse
from app.web import client_signals

router = APIRouter(include_in_schema=False)


def _flag(event: dict[str, Any], key: str, default: bool) -> bool:
    """A boolean of the event: JSON true/false, or the strings "true"/"false" (a query
    string or a form carries text; `bool("false")` would be true)."""
    value = event.get(key, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise HTTPException(status_code=400, detail=f"{key} must be true or false, got {value!r}")


def _common(event: dict[str, Any]) -> dict[str, Any]:
    return {"event_id": event.get("eventId"), "retry_ms": event.get("retryDuration")}


def render_event(event: dict[str, Any]) -> str:
    kind = event.get("type")
    if kind == "patchElements":
        return sse.patch_elements(
            event.get("elements"),
            selector=event.get("selector"),
            mode=event.get("mode", "outer"),
            namespace=event.get("namespace", "html"),
            use_view_transition=_flag(event, "useViewTransition", False),
            **_common(event),
        )
    if kind == "patchSignals":
        if "signals-raw" in event:
            return sse.patch_signals(
                raw=event["signals-raw"],
                only_if_missing=_flag(event, "onlyIfMissing", False),
                **_common(event),
            )
        return sse.patch_signals(
            event.get("signals", {}),
            only_if_missing=_flag(event, "onlyIfMissing", False),
            **_common(event),
        )
    if kind == "executeScript":
        return sse.execute_script(
            event.get("script", ""),
            attributes=event.get("attributes"),
            auto_remove=_flag(event, "autoRemove", True),
            **_common(event),
        )
    raise HTTPException(status_code=400, detail=f"unknown event type {kind!r}")


@router.api_route("/test", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def sdk_test(request: Request) -> Response:
    events = (await client_signals(request)).get("events")
    if not isinstance(events, list):
        raise HTTPException(status_code=400, detail='expected {"events": [...]}')
    body = "".join(render_event(e) for e in events if isinstance(e, dict))
    # The whole answer at once: a finite event stream needs no streaming response.
    return Response(body, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
