"""What every live screen's page needs to hold its realtime stream.

A page of a live screen opens a stream (`GET <screen>/live?since=…`) that patches in the
changes made elsewhere. `Since` is the route dependency that reads where that stream must
start; `live_stream` is what the page's `_live.html` places (the URL, and how it retries).
"""

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request

from app.db import Conn
from app.realtime import get_realtime
from app.realtime.events import current_watermark


async def stream_position(conn: Conn) -> str:
    """Where the change log stands (a snapshot's text), read before anything else the
    request reads: the page's stream starts after it. (A change committed between this
    read and the page's own reads is on the page and also sent by the stream: patches are
    idempotent.)"""
    return await current_watermark(conn)


# A route parameter `since: Since` is the stream position of the page being rendered.
Since = Annotated[str, Depends(stream_position)]


def live_stream(request: Request, path: str, query: dict[str, Any]) -> dict[str, Any]:
    """Where the page's stream starts (`path?query`), and how it retries (see _live.html)."""
    settings = get_realtime(request).settings
    return {
        "url": f"{path}?{urlencode(query)}",
        "retry_ms": settings.realtime_retry_interval_ms,
        "retry_max_wait_ms": settings.realtime_retry_max_wait_ms,
    }
