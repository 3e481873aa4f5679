"""Datastar request helpers shared by every screen."""

import json
from typing import Any

from fastapi import HTTPException, Request


def is_datastar(request: Request) -> bool:
    return request.headers.get("datastar-request") == "true"


async def require_datastar(request: Request) -> None:
    """Dependency for every mutating route.

    Datastar sends `Datastar-Request: true` with every action; a cross-site <form> cannot
    set a custom header, and a cross-site fetch() that does must pass a CORS preflight this
    app never grants: requiring it is a cheap CSRF defence.
    """
    if not is_datastar(request):
        raise HTTPException(status_code=403, detail="Datastar-Request header required")


async def read_signals(request: Request) -> dict[str, Any]:
    """The signals Datastar sent: `?datastar=<json>` for GET/DELETE, the JSON body
    otherwise (the bare signals object). {} when absent or malformed."""
    if request.method in ("GET", "DELETE"):
        raw: str | bytes | None = request.query_params.get("datastar")
    else:
        raw = await request.body()
    if not raw:
        return {}
    try:
        signals = json.loads(raw)
    except ValueError:
        return {}
    return signals if isinstance(signals, dict) else {}
