"""Tasks screen: the list page, its realtime stream, and the create/toggle/delete actions.

The actions do not patch the page themselves: they write, and the write comes back to
every open tasks page (this one included) through the realtime stream.
"""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from app.db import Conn
from app.realtime import Realtime, get_realtime, snapshot
from app.stores import tasks as store
from app.templating import templates
from app.web import read_signals, require_datastar

router = APIRouter(prefix="/tasks", tags=["tasks"])
RealtimeDep = Annotated[Realtime, Depends(get_realtime)]


@router.get("", response_class=HTMLResponse)
async def tasks_page(request: Request, conn: Conn, realtime: RealtimeDep) -> HTMLResponse:
    # Rows, counts and the event watermark from one snapshot: the stream resumes from there.
    async with snapshot(conn) as watermark:
        tasks = await store.list_tasks(conn)
        counts = await store.count_tasks(conn)
    settings = realtime.settings
    return templates.TemplateResponse(
        request,
        "tasks/page.html",
        {
            "tasks": tasks,
            "counts": counts,
            "watermark": watermark,
            "title_max": store.TITLE_MAX,
            "retry_interval_ms": settings.realtime_retry_interval_ms,
            "retry_max_wait_ms": settings.realtime_retry_max_wait_ms,
        },
    )


@router.get("/stream")
async def tasks_stream(request: Request, realtime: RealtimeDep) -> Response:
    """The page's long-lived SSE stream. In production `app.realtime.asgi` answers this
    path before FastAPI does (same `realtime.stream`, far less memory per stream)."""
    return realtime.stream(request, store.TABLE)


@router.post("", dependencies=[Depends(require_datastar)])
async def create_task(request: Request, conn: Conn) -> Response:
    signals = await read_signals(request)
    title = str(signals.get("title", "")).strip()
    if not 1 <= len(title) <= store.TITLE_MAX:
        raise HTTPException(status_code=422, detail=f"title: 1 to {store.TITLE_MAX} characters")
    await store.create_task(conn, title)
    return JSONResponse({"title": ""})  # Datastar merges JSON responses into the signals


@router.post("/{task_id}/toggle", dependencies=[Depends(require_datastar)])
async def toggle_task(task_id: UUID, conn: Conn) -> Response:
    if await store.toggle_task(conn, task_id) is None:
        raise HTTPException(status_code=404)
    return Response(status_code=204)


@router.delete("/{task_id}", dependencies=[Depends(require_datastar)])
async def delete_task(task_id: UUID, conn: Conn) -> Response:
    await store.delete_task(conn, task_id)  # deleting twice is not an error
    return Response(status_code=204)
