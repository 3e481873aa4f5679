"""Screen `timeline`: a gantt chart of store `task`.

Bars run from `starts` to `ends`; arrows come from `depends_on`.

The server owns the timeline. It picks the visible window from the data and the zoom (day,
week or month; `?zoom=` in the URL), computes every bar's left/width as a percentage of that
window, the scale's ticks, the today marker and the dependency arrows (SVG paths),
and renders them. The browser only previews a drag or a key press; on drop it sends one
request with the pixel delta and the track width, and the server turns that into whole days,
checks the rules and answers with the re-rendered row, or the whole chart when the window
or the row order changed. A refused move snaps back, with the reason. A drawer holds the
store's full form to add, edit and delete tasks; saving checks the same rules.

Rules: a task ends after it starts; it cannot start before every task it depends
on has ended, nor end after one that depends on it starts.

`task` is a realtime store: every page of this screen holds a stream (`GET
/timeline/live?zoom=…`) that redraws the chart when tasks change elsewhere
(`LiveChart` at the end).
"""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from psycopg import AsyncConnection, IntegrityError
from pydantic import ValidationError

from app.core import gantt
from app.core.forms import field_errors, parse_id
from app.core.gantt_table import GanttTable, Links
from app.core.live import Since, live_stream
from app.core.records import find, get_or_404
from app.db import Conn
from app.realtime import NetChanges, get_realtime
from app.realtime.asgi import StreamRoute
from app.stores import task as task_store
from app.templating import render
from app.web import (
    client_signals,
    is_datastar,
    is_mounted,
    page,
    patch,
    patch_signals,
    push_url,
    require_datastar,
    screen_events,
    sse,
    toast,
)

router = APIRouter(tags=["timeline"])

SCREEN = "timeline"
TITLE = "Timeline"
NOUN = "task"
PATH = "/timeline"
SCREEN_ID = "timeline"  # the prefix of this screen's element ids
LIVE_PATH = f"{PATH}/live"
Form = task_store.TaskIn
# The fields the chart reads: form/record keys, and attributes of Form.
LABEL = "title"
START = "starts"
END = "ends"
START_ATTR = "starts"
END_ATTR = "ends"
DEPENDS_ON, DEPENDS_ON_ATTR = "depends_on", "depends_on"

Row = dict[str, Any]

# The rows of the chart (app/core/gantt_table.py).
TABLE = GanttTable(
    table="tasks",
    start=START,
    end=END,
    label="title",
    noun=NOUN,
    constraint_errors=task_store.constraint_errors,
    links=Links(
        table="task_depends_on",
        owner="task_id",
        target="depends_on_id",
    ),
)


async def _chart(conn: Conn, zoom: str, errors: dict[str, str] | None = None) -> gantt.Chart:
    return await TABLE.chart(conn, zoom, PATH, errors)


# Pages (GET): a full document, or Datastar patches. Each URL is a deep link: `?zoom=` is
# the chart's only view state, and /new or /<id> open the drawer with the form.


def _closed(zoom: str) -> dict[str, Any]:
    return {
        "pane": "closed", "zoom": zoom,
        "back": gantt.zoom_url(PATH, zoom), "query": gantt.zoom_url("", zoom),
    }


async def _form(
    conn: Conn,
    zoom: str,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    record: Row | None = None,
) -> dict[str, Any]:
    drawer = {
        **_closed(zoom),
        "pane": "form",
        "record": record,
        "title": gantt.row_label(record[LABEL]) if record else "",
        "input": values,  # not "values": Jinja would find dict.values first
        "errors": errors or {},
        "depends_on_options": await task_store.options(conn),
    }
    if record is not None:  # a task cannot wait for itself: do not offer it
        key = "depends_on_options"
        drawer[key] = [o for o in drawer[key] if o["id"] != record["id"]]
    return drawer


async def _respond(
    request: Request,
    conn: Conn,
    zoom: str,
    *,
    drawer: dict[str, Any],
    selected_id: str,
    url: str,
    title: str,
    chart_too: bool,
    since: str,
) -> Response:
    """The page at `url`. A client showing this screen gets the drawer (and the chart, when
    the zoom may have changed, with a new stream for that zoom); one coming from another
    screen gets the whole screen."""
    live = _live(request, zoom, since)
    if not is_datastar(request):
        return page(
            request, f"{SCREEN}/page.html", screen=SCREEN, title=title, selected_id=selected_id,
            chart=await _chart(conn, zoom), drawer=drawer, live=live,
        )
    signals = await client_signals(request)
    if is_mounted(signals, SCREEN, ""):
        events = [patch(render(f"{SCREEN}/_drawer.html", drawer=drawer))]
        if chart_too:
            events.insert(0, patch(render(f"{SCREEN}/_chart.html", chart=await _chart(conn, zoom))))
            # The zoom may have changed: the stream of the new zoom starts where the chart was read.
            events.insert(1, patch(render(f"{SCREEN}/_live.html", live=live), mode="replace"))
        events.append(patch_signals({"_selectedId": selected_id}))
    else:
        html = render(
            f"{SCREEN}/_screen.html", chart=await _chart(conn, zoom), drawer=drawer, live=live
        )
        events = screen_events(html, screen=SCREEN, q="", selected_id=selected_id)
    events.append(push_url(url, title))
    return sse(events)


def _live(request: Request, zoom: str, since: str) -> dict[str, Any]:
    """Where the page's stream starts, for which zoom, and how it retries (see _live.html)."""
    return live_stream(request, LIVE_PATH, {"zoom": zoom, "since": since})


@router.get(LIVE_PATH)
async def live(request: Request) -> Response:
    """The page's realtime stream (see `LiveChart`). In production app/realtime/asgi.py
    answers this path in front of FastAPI (`STREAM` below); this route serves the tests."""
    return get_realtime(request).stream(request, SCREEN, _stream_key(request))


@router.get(PATH)
async def index(
    request: Request, conn: Conn, since: Since, zoom: str = gantt.DEFAULT_ZOOM
) -> Response:
    if zoom not in gantt.ZOOMS and not is_datastar(request):
        return RedirectResponse(gantt.zoom_url(PATH, gantt.DEFAULT_ZOOM))
    zoom = gantt.parse_zoom(zoom)
    return await _respond(
        request, conn, zoom, drawer=_closed(zoom), selected_id="", url=gantt.zoom_url(PATH, zoom),
        title=TITLE, chart_too=True, since=since,
    )


@router.get(f"{PATH}/new")
async def new(
    request: Request, conn: Conn, since: Since, zoom: str = gantt.DEFAULT_ZOOM
) -> Response:
    zoom = gantt.parse_zoom(zoom)
    drawer = await _form(conn, zoom, task_store.new_values())
    return await _respond(
        request, conn, zoom, drawer=drawer, selected_id="", url=gantt.zoom_url(f"{PATH}/new", zoom),
        title=f"New {NOUN} · {TITLE}", chart_too=False, since=since,
    )


@router.get(f"{PATH}/{{record_id}}")
async def edit(
    request: Request, conn: Conn, since: Since, record_id: str, zoom: str = gantt.DEFAULT_ZOOM
) -> Response:
    zoom = gantt.parse_zoom(zoom)
    record = await get_or_404(task_store.get, conn, record_id)
    drawer = await _form(conn, zoom, task_store.record_values(record), record=record)
    return await _respond(
        request, conn, zoom, drawer=drawer, selected_id=str(record["id"]),
        url=gantt.zoom_url(f"{PATH}/{record['id']}", zoom), title=f"{drawer['title']} · {TITLE}",
        chart_too=False, since=since,
    )


# Moves (POST, Datastar only): one request per drop or per burst of key presses.


async def _answer(
    conn: Conn,
    zoom: str,
    seen: gantt.Seen | None,
    *,
    row_id: UUID | None = None,
    before: list[str] | None = None,
    message: str = "",
    error: str = "",
) -> Response:
    """Bring the client's chart up to date after a move (done, refused or not readable).

    When the client drew the same window and the rows kept their order (sorted by start), only
    the moved row is re-rendered in place and the arrows are redrawn. Otherwise the whole chart
    is sent and morphed: every patch is idempotent, so this answer and a live frame for the
    same change can arrive interleaved in any order (a remove-then-insert pair could not: a
    live morph landing between the two left the row twice).
    """
    key = str(row_id) if row_id else ""
    chart = await _chart(conn, zoom, {key: error} if error and key else None)
    after = [r.id for r in chart.rows]
    row = chart.row(key)
    # The preview's signals go first: the bar must never show both the preview and its new place.
    events = [patch_signals({"_gantt": {"id": "", "move": 0, "grow": 0}})]
    same_window = seen is not None and (seen.window_start, seen.window_days) == (
        chart.window.start, chart.window.days
    )
    if row is not None and same_window and before == after:
        events.append(patch(render(f"{SCREEN}/_row.html", row=row, chart=chart)))
        events.append(patch(render(f"{SCREEN}/_links.html", chart=chart)))
    else:
        events.append(patch(render(f"{SCREEN}/_chart.html", chart=chart)))
    if error or message:
        events.append(toast(error or message, "error" if error else "success"))
    return sse(events)


async def _move(
    conn: Conn, zoom: str, seen: gantt.Seen, task_id: UUID, move: int, grow: int
) -> Response:
    try:
        moved = await TABLE.reschedule(conn, task_id, move, grow)
    except gantt.MoveError as exc:
        if exc.gone:
            return await _answer(conn, zoom, seen, error=str(exc))
        before = await TABLE.order(conn)
        return await _answer(conn, zoom, seen, row_id=task_id, before=before, error=str(exc))
    when = f"{gantt.short_date(moved.start)} – {gantt.short_date(moved.end)}"
    return await _answer(
        conn, zoom, seen, row_id=task_id, before=moved.before,
        message=f"“{moved.label}” now runs {when}.",
    )


@router.post(f"{PATH}/move", dependencies=[Depends(require_datastar)])
async def drop(
    request: Request, conn: Conn, zoom: Annotated[str, Query()] = gantt.DEFAULT_ZOOM
) -> Response:
    """A drag ended: `{id, edge, dx, width, window_start, window_days}`."""
    zoom = gantt.parse_zoom(zoom)
    try:
        drag = gantt.DragIn.model_validate(await client_signals(request))
    except ValidationError:
        return await _answer(conn, zoom, None, error="That move could not be read.")
    days = drag.days()
    if days == 0:  # less than half a day: put the bar back where it was
        return await _answer(conn, zoom, drag, row_id=drag.id, before=await TABLE.order(conn))
    move, grow = (days, 0) if drag.edge == "move" else (0, days)
    return await _move(conn, zoom, drag, drag.id, move, grow)


@router.post(f"{PATH}/nudge", dependencies=[Depends(require_datastar)])
async def nudge(
    request: Request, conn: Conn, zoom: Annotated[str, Query()] = gantt.DEFAULT_ZOOM
) -> Response:
    """Arrow keys: `{id, move, grow, window_start, window_days}` in whole days."""
    zoom = gantt.parse_zoom(zoom)
    try:
        keys = gantt.NudgeIn.model_validate(await client_signals(request))
    except ValidationError:
        return await _answer(conn, zoom, None, error="That move could not be read.")
    if keys.move == 0 and keys.grow == 0:
        return await _answer(conn, zoom, keys, row_id=keys.id, before=await TABLE.order(conn))
    return await _move(conn, zoom, keys, keys.id, keys.move, keys.grow)


# The drawer's form (Datastar only): the store's fields, validated by the store's model and
# by the same schedule rules as a move. Saving redraws the chart and closes the drawer.


async def _check(conn: Conn, record: Row | None, data: Any) -> dict[str, str]:
    """The schedule rules for the submitted dates: an error per field, or {}."""
    start = getattr(data, START_ATTR)
    end = getattr(data, END_ATTR)
    record_id: UUID | None = record["id"] if record else None
    needs_ids: list[UUID] = list(getattr(data, DEPENDS_ON_ATTR))
    if record_id is not None and record_id in needs_ids:
        return {DEPENDS_ON: f"A {NOUN} cannot depend on itself."}
    needs = await TABLE.rows(conn, needs_ids) if needs_ids else []
    waiting = await TABLE.waiting(conn, record_id) if record_id is not None else []
    broken = gantt.broken_rule(f"This {NOUN}", start, end, needs, waiting)
    return {START if broken[0] == "start" else END: broken[1]} if broken else {}


async def _saved(conn: Conn, zoom: str, message: str, level: str = "success") -> Response:
    return sse([
        patch(render(f"{SCREEN}/_chart.html", chart=await _chart(conn, zoom))),
        patch(render(f"{SCREEN}/_drawer.html", drawer=_closed(zoom))),
        patch_signals({"_selectedId": ""}),
        push_url(gantt.zoom_url(PATH, zoom), TITLE),
        toast(message, level),
    ])


async def _write(conn: Conn, record: Row | None, data: Any) -> bool:
    """Create or update; False when the record was deleted meanwhile."""
    if record is None:
        await task_store.create(conn, data)
        return True
    return await task_store.update(conn, record["id"], data)


async def _save(conn: Conn, zoom: str, values: dict[str, Any], record: Row | None) -> Response:
    try:
        data = Form.model_validate(values)
        async with conn.transaction():
            await TABLE.lock(conn)
            errors = await _check(conn, record, data)
            if not errors and not await _write(conn, record, data):
                return await _saved(conn, zoom, f"That {NOUN} no longer exists.", "error")
    except ValidationError as exc:
        errors = field_errors(exc)
    except IntegrityError as exc:
        errors = task_store.constraint_errors(exc)
        if not errors:
            raise
    if errors:
        drawer = await _form(conn, zoom, values, errors, record=record)
        return sse([patch(render(f"{SCREEN}/_drawer.html", drawer=drawer))])
    done = "saved" if record else "created"
    return await _saved(conn, zoom, f"{NOUN.capitalize()} {done}.")


@router.post(PATH, dependencies=[Depends(require_datastar)])
async def create(request: Request, conn: Conn, zoom: str = gantt.DEFAULT_ZOOM) -> Response:
    values = task_store.form_values(await request.form())
    return await _save(conn, gantt.parse_zoom(zoom), values, None)


@router.put(f"{PATH}/{{record_id}}", dependencies=[Depends(require_datastar)])
async def update(
    request: Request, conn: Conn, record_id: str, zoom: str = gantt.DEFAULT_ZOOM
) -> Response:
    record = await find(task_store.get, conn, record_id)
    if record is None:
        return await _saved(conn, gantt.parse_zoom(zoom), f"That {NOUN} no longer exists.", "error")
    values = task_store.form_values(await request.form())
    return await _save(conn, gantt.parse_zoom(zoom), values, record)


@router.delete(f"{PATH}/{{record_id}}", dependencies=[Depends(require_datastar)])
async def delete(conn: Conn, record_id: str, zoom: str = gantt.DEFAULT_ZOOM) -> Response:
    record_uuid = parse_id(record_id)
    label = await task_store.delete(conn, record_uuid) if record_uuid else None
    if label is None:
        return await _saved(conn, gantt.parse_zoom(zoom), f"That {NOUN} no longer exists.", "error")
    return await _saved(conn, gantt.parse_zoom(zoom), f"Deleted {label}.")


# Realtime: how changes to `tasks` reach the open pages of this screen.


def _stream_key(request: Request) -> str:
    """Pages are grouped by their zoom (canonical: an unknown zoom is the default one)."""
    return gantt.parse_zoom(request.query_params.get("zoom", ""))


class LiveChart:
    """The `ChannelView` of this screen (app/realtime/hub.py).

    For each burst of changes and each zoom, one frame: the whole chart, morphed in place.
    Per-row patches would be fragile here: one changed task can move the window (every
    bar's left/width and the scale), the order of the rows (sorted by start) and the arrows
    of other rows, and whether they start too early. A morph keeps the unchanged bars as they
    are (and their focus); the drawer lies outside the chart and is never touched, and what a
    drag or key press previews on a bar (`data-moving`, the body's --move/--grow) is kept
    through the morph (data-preserve-attr) until the page's own move is answered.
    """

    name = SCREEN
    channel = "tasks"

    async def render_changes(
        self, conn: AsyncConnection[Any], changes: NetChanges, key: str
    ) -> list[str]:
        return await self.render_all(conn, key)

    async def render_all(self, conn: AsyncConnection[Any], key: str) -> list[str]:
        chart = await _chart(conn, gantt.parse_zoom(key))
        return [patch(render(f"{SCREEN}/_chart.html", chart=chart))]


LIVE = LiveChart()
STREAM = StreamRoute(path=LIVE_PATH, view=SCREEN, key=_stream_key)
