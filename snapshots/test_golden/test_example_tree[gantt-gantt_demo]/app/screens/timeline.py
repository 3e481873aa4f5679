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

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlencode
from uuid import UUID

from datastar_py.sse import DatastarEvent
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from psycopg import AsyncConnection, IntegrityError
from pydantic import BaseModel, Field, ValidationError

from app import sse as stream_events
from app.core.forms import field_errors, parse_id
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
# The fields the chart reads: form/record keys, and attributes of task_store.TaskIn.
LABEL = "title"
START = "starts"
END = "ends"
START_ATTR = "starts"
END_ATTR = "ends"
DEPENDS_ON, DEPENDS_ON_ATTR = "depends_on", "depends_on"

ZOOMS = ("day", "week", "month")
DEFAULT_ZOOM = "week"
PX_PER_DAY = {"day": 40, "week": 18, "month": 5}  # the track's width is days * this
PAD = {"day": 2, "week": 7, "month": 15}  # days of air before the first and after the last task
MIN_DAYS = {"day": 28, "week": 84, "month": 245}  # a short plan still fills the width
MAX_DAYS = {"day": 731, "week": 3653, "month": 18263}  # a longer window is cut at its end
TODAY_REACH = 30  # today is pulled into the window when it is this close to the tasks
ROW_LIMIT = 500  # rows shown; the rest are counted, not drawn
ROW_HEIGHT = 44  # px; rows are `h-11` in the templates, the arrows are drawn on this grid
CHAR_PX = 7  # about how wide a character of a bar's label is (text-xs), to see if it fits
HANDLE_PX = 24  # a narrower bar has no grip for its end (it would cover the whole bar)
MAX_SHIFT = 36600  # days a single request may move a task
MAX_PX = 10_000_000  # a drag delta or track width beyond this is not a real pointer
# Moves of this table run one at a time, so two moves cannot each pass the dependency check
# against the other's old dates.
MOVE_LOCK = "dsgen-gantt:tasks"
DAY = timedelta(days=1)
# Windows stay inside these dates, so padding and month arithmetic never leave `date`.
EARLIEST = date(2, 1, 1)
LATEST = date(9998, 1, 1)

Row = dict[str, Any]


# Where a bar begins and ends, as moments in UTC.
# A start date begins at its midnight.
# An end date is inclusive: the bar runs to the midnight after it (the 5th to the 5th is a day).


def _begin(value: date | None) -> datetime | None:
    return None if value is None else datetime.combine(value, time.min, UTC)


def _finish(value: date | None) -> datetime | None:
    return None if value is None else datetime.combine(value, time.min, UTC) + DAY


def _moment(value: date | datetime) -> str:
    """A start or end as the rows show it: `Mar 5`, or `Mar 5 09:30` for a datetime."""
    if isinstance(value, datetime):
        value = value.astimezone(UTC)
        return f"{value:%b} {value.day} {value:%H:%M}"
    return f"{value:%b} {value.day}"


def _full(value: date | datetime) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(UTC)
        return f"{value:%b} {value.day}, {value.year} {value:%H:%M} UTC"
    return f"{value:%b} {value.day}, {value.year}"


def _length(begin: datetime, finish: datetime) -> str:
    days = (finish - begin) / DAY
    if days >= 1:
        whole = round(days)
        if abs(days - whole) < 1e-9:
            return "1 day" if whole == 1 else f"{whole} days"
        return f"{days:.1f} days"
    hours = days * 24
    return f"{hours:.1f} h".replace(".0 h", " h")


def _label(value: str | None) -> str:
    return value if value not in (None, "") else "Untitled"


# The window: which days the chart shows, and how wide a day is.


def _next(day: date, unit: str) -> date:
    """The start of the `unit` (day, week from Monday, month, year) after the one holding `day`."""
    if unit == "day":
        return day + DAY
    if unit == "week":
        return day + timedelta(days=7 - day.weekday())
    if unit == "month":
        return date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return date(day.year + 1, 1, 1)


def _floor(day: date, unit: str) -> date:
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    if unit == "year":
        return day.replace(month=1, day=1)
    return day


def _ceil(day: date, unit: str) -> date:
    start = _floor(day, unit)
    return day if start == day else _next(start, unit)


def _day_after(moment: datetime) -> date:
    """The first whole day not touched by anything up to `moment`."""
    day = moment.date()
    return day if moment.time() == time.min else day + DAY


@dataclass(frozen=True)
class Window:
    zoom: str
    start: date
    days: int

    @property
    def end(self) -> date:
        """The first day after the window."""
        return self.start + timedelta(days=self.days)

    @property
    def last(self) -> date:
        return self.end - DAY

    @property
    def px_per_day(self) -> int:
        return PX_PER_DAY[self.zoom]

    @property
    def width(self) -> int:
        """The track's width in CSS pixels (the chart scrolls sideways when it is wider)."""
        return self.days * self.px_per_day

    def pct(self, moment: datetime) -> float:
        """Where `moment` falls, in percent of the window (may lie outside 0 to 100)."""
        origin = datetime.combine(self.start, time.min, UTC)
        return (moment - origin) / (self.days * DAY) * 100

    def pct_of_day(self, day: date) -> float:
        return (day - self.start).days / self.days * 100


def _window(zoom: str, moments: list[datetime], now: datetime) -> Window:
    """The days to show: every task, some air, today when it is near, whole units at the ends."""
    today = now.date()
    if moments:
        first, last = min(moments).date(), _day_after(max(moments))
    else:
        first, last = today, today + DAY
    if first - timedelta(days=TODAY_REACH) <= today <= last + timedelta(days=TODAY_REACH):
        first, last = min(first, today), max(last, today + DAY)
    first = min(max(first, EARLIEST), LATEST)
    last = min(max(last, first + DAY), LATEST)
    unit = "day" if zoom == "day" else zoom
    start = _floor(first - timedelta(days=PAD[zoom]), unit)
    end = _ceil(last + timedelta(days=PAD[zoom]), unit)
    if (end - start).days < MIN_DAYS[zoom]:
        end = _ceil(start + timedelta(days=MIN_DAYS[zoom]), unit)
    return Window(zoom=zoom, start=start, days=min((end - start).days, MAX_DAYS[zoom]))


# What the templates place: every number is decided here.


def _num(value: float) -> str:
    """A CSS number: at most four decimals, no trailing zeros, never `-0`."""
    text = f"{round(value, 4) + 0.0:.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _place(left: float, width: float) -> str:
    return f"left: {_num(left)}%; width: {_num(width)}%"


@dataclass
class Tick:
    style: str  # left/width in percent of the window
    label: str
    sub: str = ""  # a quieter prefix (the weekday, on the day scale)


@dataclass
class Bar:
    left: float  # percent of the window, clipped to it
    width: float
    px: float  # the bar's width in pixels
    x1: float  # its ends in pixels from the track's left edge (for the arrows)
    x2: float
    style: str
    offset: int  # whole days from the window's start (the slider value)
    inside: bool  # the label fits on the bar
    handle: bool  # wide enough for a grip to change the end
    broken: bool  # the data ends before it starts
    cut_start: bool  # the bar continues before the window
    cut_end: bool


@dataclass
class ChartRow:
    id: str
    label: str
    when: str  # dates and length ("Mar 5 to Mar 9, 5 days" in short), or why there is no bar
    span: str  # the same, spelled out for screen readers and the tooltip
    bar: Bar | None
    url: str = ""  # opens the row's form in the drawer
    error: str = ""  # why the last move of this row was refused
    late: bool = False  # it starts before a task it depends on ends
    begin: datetime | None = None
    finish: datetime | None = None


@dataclass
class Link:
    source: str  # the task depended on (the arrow starts at its end)
    target: str  # the task that waits (the arrow ends at its start)
    d: str  # SVG path
    late: bool
    title: str


@dataclass
class ZoomLink:
    name: str
    title: str
    url: str


@dataclass
class Chart:
    window: Window
    rows: list[ChartRow]
    total: int  # rows in the table (more than shown when over ROW_LIMIT)
    major: list[Tick] = field(default_factory=list)
    minor: list[Tick] = field(default_factory=list)
    weekends: list[str] = field(default_factory=list)  # styles of the shaded weekend columns
    today: str | None = None  # style of the today line, when today is in the window
    today_px: float | None = None  # the same, in pixels (the chart scrolls it into view)
    links: list[Link] = field(default_factory=list)
    zooms: list[ZoomLink] = field(default_factory=list)
    move_url: str = ""
    nudge_url: str = ""
    new_url: str = ""

    @property
    def height(self) -> int:
        return len(self.rows) * ROW_HEIGHT

    def row(self, row_id: str) -> ChartRow | None:
        return next((r for r in self.rows if r.id == row_id), None)


# Scale labels per zoom: (top unit, its label), (bottom unit, its label).
_SCALES = {
    "day": ("month", "day"),
    "week": ("month", "week"),
    "month": ("year", "month"),
}
_MIN_LABEL_PX = 36  # a partial unit narrower than this at the window's edge stays unlabelled


def _tick_label(day: date, unit: str, top: bool, px: float) -> tuple[str, str]:
    """(label, quieter prefix) of the scale cell starting on `day`, as long as fits in `px`."""
    if px < _MIN_LABEL_PX:
        return "", ""
    if unit == "year":
        return str(day.year), ""
    if unit == "month" and top:
        return (f"{day:%B} {day.year}" if px >= 128 else f"{day:%b} {day.year}" if px >= 72
                else f"{day:%b}"), ""
    if unit == "month":
        return f"{day:%b}", ""
    if unit == "week":
        return f"{day:%b} {day.day}", ""
    return str(day.day), f"{day:%a}"[:2]


def _ticks(window: Window, unit: str, top: bool) -> list[Tick]:
    ticks = []
    day = window.start
    while day < window.end:
        following = min(_next(day, unit), window.end)
        span = (following - day).days
        label, sub = _tick_label(day, unit, top, span * window.px_per_day)
        ticks.append(Tick(_place(window.pct_of_day(day), span / window.days * 100), label, sub))
        day = following
    return ticks


def _weekends(window: Window) -> list[str]:
    if window.zoom == "month":
        return []
    shaded = []
    day = window.start
    while day < window.end:
        if day.weekday() >= 5:
            monday = min(day + timedelta(days=7 - day.weekday()), window.end)
            shaded.append(_place(window.pct_of_day(day), (monday - day).days / window.days * 100))
            day = monday
        else:
            day += timedelta(days=5 - day.weekday())
    return shaded


def _bar(window: Window, begin: datetime, finish: datetime, label: str) -> Bar:
    left, right = window.pct(begin), window.pct(max(finish, begin))
    shown_left, shown_right = max(left, 0.0), min(right, 100.0)
    if shown_right < shown_left:  # wholly outside the window: a sliver at the near edge
        shown_left = shown_right = 0.0 if right <= 0 else 100.0
    width = shown_right - shown_left
    px = width / 100 * window.width
    return Bar(
        left=shown_left,
        width=width,
        px=px,
        x1=round(shown_left / 100 * window.width, 1),
        x2=round(shown_right / 100 * window.width, 1),
        style=_place(shown_left, width),
        offset=math.floor(left / 100 * window.days),
        inside=px >= CHAR_PX * len(label) + 16,
        handle=px >= HANDLE_PX,
        broken=finish <= begin,
        cut_start=left < 0,
        cut_end=right > 100,
    )


def _chart_row(record: Row, window: Window, error: str = "") -> ChartRow:
    start, end = record["start"], record["end"]
    label = _label(record["label"])
    begin, finish = _begin(start), _finish(end)
    if begin is None or finish is None:
        return ChartRow(str(record["id"]), label, "Not scheduled", "not scheduled", None, error)
    length = _length(begin, finish) if finish > begin else "ends before it starts"
    return ChartRow(
        id=str(record["id"]),
        label=label,
        when=f"{_moment(start)} – {_moment(end)} · {length}",
        span=f"{_full(start)} to {_full(end)}, {length}",
        bar=_bar(window, begin, finish, label),
        error=error,
        begin=begin,
        finish=finish,
    )


def _link_path(x1: float, y1: float, x2: float, y2: float) -> str:
    """An elbow from the end of one bar to the start of another, around it when they overlap."""
    gap = 8
    if x2 - x1 >= 2 * gap:
        return f"M{_num(x1)} {_num(y1)}H{_num(x1 + gap)}V{_num(y2)}H{_num(x2)}"
    between = y2 - ROW_HEIGHT / 2 if y2 > y1 else y2 + ROW_HEIGHT / 2
    return (
        f"M{_num(x1)} {_num(y1)}H{_num(x1 + gap)}V{_num(between)}"
        f"H{_num(x2 - gap)}V{_num(y2)}H{_num(x2)}"
    )


def _links(rows: list[ChartRow], pairs: list[Row]) -> list[Link]:
    """One arrow per dependency between two scheduled rows; marks the rows that start too early."""
    index = {row.id: i for i, row in enumerate(rows)}
    links = []
    for pair in pairs:
        source_id, target_id = str(pair["needs"]), str(pair["task"])
        if source_id not in index or target_id not in index:
            continue
        source, target = rows[index[source_id]], rows[index[target_id]]
        if source.bar is None or target.bar is None:
            continue
        assert source.finish is not None and target.begin is not None
        late = target.begin < source.finish
        target.late = target.late or late
        links.append(Link(
            source=source_id,
            target=target_id,
            d=_link_path(
                source.bar.x2, index[source_id] * ROW_HEIGHT + ROW_HEIGHT / 2,
                target.bar.x1, index[target_id] * ROW_HEIGHT + ROW_HEIGHT / 2,
            ),
            late=late,
            title=f"{target.label} waits for {source.label}",
        ))
    return links


def _url(path: str, zoom: str) -> str:
    return path if zoom == DEFAULT_ZOOM else f"{path}?{urlencode({'zoom': zoom})}"


def _zoom(raw: str) -> str:
    return raw if raw in ZOOMS else DEFAULT_ZOOM


# SQL: parameterised; every identifier quoted.

_ORDER = 't."starts" NULLS LAST, t."title"::text, t."id"'
_COLUMNS = 't."id", t."title"::text AS "label", t."starts" AS "start", t."ends" AS "end"'


async def _records(conn: Conn) -> list[Row]:
    """Up to ROW_LIMIT + 1 rows, by start (unscheduled last), then label."""
    cur = await conn.execute(
        f"""
        SELECT {_COLUMNS}
        FROM "tasks" AS t
        ORDER BY {_ORDER}
        LIMIT %(limit)s
        """,
        {"limit": ROW_LIMIT + 1},
    )
    return await cur.fetchall()


async def _count(conn: Conn) -> int:
    cur = await conn.execute('SELECT count(*) AS "n" FROM "tasks"')
    row = await cur.fetchone()
    return int(row["n"]) if row else 0


async def _order(conn: Conn) -> list[str]:
    """The ids of the shown rows, in order (to tell whether a move reorders the chart)."""
    cur = await conn.execute(
        f'SELECT t."id" FROM "tasks" AS t ORDER BY {_ORDER} LIMIT %(limit)s',
        {"limit": ROW_LIMIT},
    )
    return [str(r["id"]) for r in await cur.fetchall()]


async def _rows(conn: Conn, ids: list[UUID]) -> list[Row]:
    cur = await conn.execute(
        f'SELECT {_COLUMNS} FROM "tasks" AS t WHERE t."id" = ANY(%(ids)s) ORDER BY {_ORDER}',
        {"ids": ids},
    )
    return await cur.fetchall()


async def _dependencies(conn: Conn, ids: list[UUID]) -> list[Row]:
    """(task, needs) pairs among `ids`: `task` may not start before `needs` ends."""
    cur = await conn.execute(
        """
        SELECT link."task_id" AS "task", link."depends_on_id" AS "needs"
        FROM "task_depends_on" AS link
        WHERE link."task_id" = ANY(%(ids)s)
          AND link."depends_on_id" = ANY(%(ids)s)
          AND link."task_id" <> link."depends_on_id"
        ORDER BY link."task_id", link."depends_on_id"
        """,
        {"ids": ids},
    )
    return await cur.fetchall()


async def _needs(conn: Conn, task_id: UUID) -> list[Row]:
    """The rows `task_id` depends on, as stored."""
    cur = await conn.execute(
        f"""
        SELECT {_COLUMNS}
        FROM "task_depends_on" AS link JOIN "tasks" AS t ON t."id" = link."depends_on_id"
        WHERE link."task_id" = %(id)s AND t."id" <> %(id)s
        ORDER BY {_ORDER}
        """,
        {"id": task_id},
    )
    return await cur.fetchall()


async def _waiting(conn: Conn, task_id: UUID) -> list[Row]:
    """The rows that depend on `task_id`."""
    cur = await conn.execute(
        f"""
        SELECT {_COLUMNS}
        FROM "task_depends_on" AS link JOIN "tasks" AS t ON t."id" = link."task_id"
        WHERE link."depends_on_id" = %(id)s AND t."id" <> %(id)s
        ORDER BY {_ORDER}
        """,
        {"id": task_id},
    )
    return await cur.fetchall()


def _now() -> datetime:
    return datetime.now(UTC)


async def _chart(conn: Conn, zoom: str, errors: dict[str, str] | None = None) -> Chart:
    records = await _records(conn)
    total = len(records)
    if total > ROW_LIMIT:
        records = records[:ROW_LIMIT]
        total = await _count(conn)
    moments = [
        m for r in records
        if r["start"] is not None and r["end"] is not None
        for m in (_begin(r["start"]), _finish(r["end"]))
        if m is not None
    ]
    now = _now()
    window = _window(zoom, moments, now)
    errors = errors or {}
    rows = [_chart_row(r, window, errors.get(str(r["id"]), "")) for r in records]
    for row in rows:
        row.url = _url(f"{PATH}/{row.id}", zoom)
    top, bottom = _SCALES[zoom]
    today = window.pct(now)
    chart = Chart(
        window=window,
        rows=rows,
        total=total,
        major=_ticks(window, top, top=True),
        minor=_ticks(window, bottom, top=False),
        weekends=_weekends(window),
        today=f"left: {_num(today)}%" if 0 <= today <= 100 else None,
        today_px=round(today / 100 * window.width) if 0 <= today <= 100 else None,
        zooms=[ZoomLink(z, z.capitalize(), _url(PATH, z)) for z in ZOOMS],
        move_url=f"{PATH}/move?{urlencode({'zoom': zoom})}",
        nudge_url=f"{PATH}/nudge?{urlencode({'zoom': zoom})}",
        new_url=_url(f"{PATH}/new", zoom),
    )
    if rows:
        pairs = await _dependencies(conn, [r["id"] for r in records])
        chart.links = _links(rows, pairs)
    return chart


# Pages (GET): a full document, or Datastar patches. Each URL is a deep link: `?zoom=` is
# the chart's only view state, and /new or /<id> open the drawer with the form.


def _closed(zoom: str) -> dict[str, Any]:
    return {"pane": "closed", "zoom": zoom, "back": _url(PATH, zoom), "query": _url("", zoom)}


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
        "title": _label(_text(record[LABEL])) if record else "",
        "input": values,  # not "values": Jinja would find dict.values first
        "errors": errors or {},
        "depends_on_options": await task_store.options(conn),
    }
    if record is not None:  # a task cannot wait for itself: do not offer it
        key = "depends_on_options"
        drawer[key] = [o for o in drawer[key] if o["id"] != record["id"]]
    return drawer


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


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
    since: int,
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


def _live(request: Request, zoom: str, since: int) -> dict[str, Any]:
    """Where the page's stream starts, for which zoom, and how it retries (see _live.html)."""
    return live_stream(request, LIVE_PATH, {"zoom": zoom, "since": since})


@router.get(LIVE_PATH)
async def live(request: Request) -> Response:
    """The page's realtime stream (see `LiveChart`). In production app/realtime/asgi.py
    answers this path in front of FastAPI (`STREAM` below); this route serves the tests."""
    return get_realtime(request).stream(request, SCREEN, _stream_key(request))


@router.get(PATH)
async def index(
    request: Request, conn: Conn, since: Since, zoom: str = DEFAULT_ZOOM
) -> Response:
    if zoom not in ZOOMS and not is_datastar(request):
        return RedirectResponse(_url(PATH, DEFAULT_ZOOM))
    zoom = _zoom(zoom)
    return await _respond(
        request, conn, zoom, drawer=_closed(zoom), selected_id="", url=_url(PATH, zoom),
        title=TITLE, chart_too=True, since=since,
    )


@router.get(f"{PATH}/new")
async def new(
    request: Request, conn: Conn, since: Since, zoom: str = DEFAULT_ZOOM
) -> Response:
    zoom = _zoom(zoom)
    drawer = await _form(conn, zoom, task_store.new_values())
    return await _respond(
        request, conn, zoom, drawer=drawer, selected_id="", url=_url(f"{PATH}/new", zoom),
        title=f"New {NOUN} · {TITLE}", chart_too=False, since=since,
    )


@router.get(f"{PATH}/{{record_id}}")
async def edit(
    request: Request, conn: Conn, since: Since, record_id: str, zoom: str = DEFAULT_ZOOM
) -> Response:
    zoom = _zoom(zoom)
    record = await get_or_404(task_store.get, conn, record_id)
    drawer = await _form(conn, zoom, task_store.record_values(record), record=record)
    return await _respond(
        request, conn, zoom, drawer=drawer, selected_id=str(record["id"]),
        url=_url(f"{PATH}/{record['id']}", zoom), title=f"{drawer['title']} · {TITLE}",
        chart_too=False, since=since,
    )


# Moves (POST, Datastar only): one request per drop or per burst of key presses.


class _Seen(BaseModel):
    """The window the client drew: pixels are converted against it, and when the new chart
    has the same window (and row order) only the moved row is sent back."""

    window_start: date
    window_days: int = Field(ge=1, le=max(MAX_DAYS.values()))


class DragIn(_Seen):
    """A bar dropped after a drag: `dx` pixels on a track `width` pixels wide."""

    id: UUID
    edge: Literal["move", "end"] = "move"  # the whole bar, or only its end
    dx: float = Field(ge=-MAX_PX, le=MAX_PX, allow_inf_nan=False)
    width: float = Field(gt=0, le=MAX_PX, allow_inf_nan=False)

    def days(self) -> int:
        """Whole days, rounded half up like the preview the browser drew (Math.round)."""
        return math.floor(self.dx / self.width * self.window_days + 0.5)


class NudgeIn(_Seen):
    """Arrow keys on a focused bar, batched: move it and/or change its end by whole days."""

    id: UUID
    move: int = Field(0, ge=-MAX_SHIFT, le=MAX_SHIFT)
    grow: int = Field(0, ge=-MAX_SHIFT, le=MAX_SHIFT)


async def _lock(conn: Conn) -> None:
    """Writers of this table's dates take turns (until their transaction ends)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%(lock)s))", {"lock": MOVE_LOCK})


def _broken_rule(
    who: str,
    start: Any,
    end: Any,
    needs: list[Row],
    waiting: list[Row],
) -> tuple[str, str] | None:
    """The first schedule rule new dates would break: (the field to blame, why), or None."""
    begin, finish = _begin(start), _finish(end)
    if begin is None or finish is None:
        return None  # not scheduled: nothing to check
    if finish <= begin:
        return END, f"{who} must end after it starts."
    for other in needs:
        other_finish = _finish(other["end"])
        if other["start"] is not None and other_finish is not None and begin < other_finish:
            return START, (
                f"{who} can’t start before “{_label(other['label'])}” ends"
                f" ({_moment(other['end'])})."
            )
    for other in waiting:
        other_begin = _begin(other["start"])
        if other["end"] is not None and other_begin is not None and other_begin < finish:
            return END, (
                f"{who} must end before “{_label(other['label'])}” starts"
                f" ({_moment(other['start'])})."
            )
    return None


class MoveError(Exception):
    """A move the schedule cannot take; the message is shown to the user."""

    def __init__(self, message: str, *, gone: bool = False) -> None:
        super().__init__(message)
        self.gone = gone


@dataclass
class Moved:
    label: str
    start: date | datetime
    end: date | datetime
    before: list[str]  # the row order before the move


async def _reschedule(conn: Conn, task_id: UUID, move: int, grow: int) -> Moved:
    """Shift a task by `move` days and its end by `grow` more, if every rule still holds."""
    async with conn.transaction():
        await _lock(conn)
        before = await _order(conn)
        rows = await _rows(conn, [task_id])
        if not rows:
            raise MoveError(f"That {NOUN} no longer exists.", gone=True)
        current = rows[0]
        label = _label(current["label"])
        if current["start"] is None or current["end"] is None:
            raise MoveError(f"“{label}” has no dates to move; set its start and end first.")
        try:
            start = current["start"] + timedelta(days=move)
            end = current["end"] + timedelta(days=move + grow)
        except OverflowError:
            raise MoveError("That date is out of range.") from None
        broken = _broken_rule(
            f"“{label}”", start, end, await _needs(conn, task_id), await _waiting(conn, task_id)
        )
        if broken:
            raise MoveError(broken[1])
        try:
            await conn.execute(
                """
                UPDATE "tasks"
                SET "starts" = %(start)s, "ends" = %(end)s, "updated_at" = now()
                WHERE "id" = %(id)s
                """,
                {"id": task_id, "start": start, "end": end},
            )
        except IntegrityError as exc:  # a rule of the schema (unique, no-overlap, check)
            known = list(task_store.constraint_errors(exc).values())
            refused = f"The database refused that move: it clashes with another {NOUN}."
            raise MoveError(known[0] if known else refused) from None
    return Moved(label, start, end, before)


async def _answer(
    conn: Conn,
    zoom: str,
    seen: _Seen | None,
    *,
    row_id: UUID | None = None,
    before: list[str] | None = None,
    message: str = "",
    error: str = "",
) -> Response:
    """Bring the client's chart up to date after a move (done, refused or not readable).

    When the client drew the same window, only the moved row changes: it is re-rendered in
    place, or moved to its new place among the rows (they are sorted by start), and the
    arrows are redrawn. Otherwise the whole chart is sent.
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
    if row is not None and same_window and before is not None and sorted(before) == sorted(after):
        html = render(f"{SCREEN}/_row.html", row=row, chart=chart)
        if before == after:
            events.append(patch(html))
        else:
            events.append(patch("", selector=f"#{SCREEN_ID}-row-{key}", mode="remove"))
            events.append(_insert_row(html, after, key))
        events.append(patch(render(f"{SCREEN}/_links.html", chart=chart)))
    else:
        events.append(patch(render(f"{SCREEN}/_chart.html", chart=chart)))
    if error or message:
        events.append(toast(error or message, "error" if error else "success"))
    return sse(events)


def _insert_row(html: str, order: list[str], key: str) -> DatastarEvent:
    """Put a row back where it now sorts: before its new successor, or after the last row."""
    at = order.index(key)
    if at + 1 < len(order):
        return patch(html, selector=f"#{SCREEN_ID}-row-{order[at + 1]}", mode="before")
    return patch(html, selector=f"#{SCREEN_ID}-row-{order[at - 1]}", mode="after")


async def _move(
    conn: Conn, zoom: str, seen: _Seen, task_id: UUID, move: int, grow: int
) -> Response:
    try:
        moved = await _reschedule(conn, task_id, move, grow)
    except MoveError as exc:
        if exc.gone:
            return await _answer(conn, zoom, seen, error=str(exc))
        before = await _order(conn)
        return await _answer(conn, zoom, seen, row_id=task_id, before=before, error=str(exc))
    when = f"{_moment(moved.start)} – {_moment(moved.end)}"
    return await _answer(
        conn, zoom, seen, row_id=task_id, before=moved.before,
        message=f"“{moved.label}” now runs {when}.",
    )


@router.post(f"{PATH}/move", dependencies=[Depends(require_datastar)])
async def drop(
    request: Request, conn: Conn, zoom: Annotated[str, Query()] = DEFAULT_ZOOM
) -> Response:
    """A drag ended: `{id, edge, dx, width, window_start, window_days}`."""
    zoom = _zoom(zoom)
    try:
        drag = DragIn.model_validate(await client_signals(request))
    except ValidationError:
        return await _answer(conn, zoom, None, error="That move could not be read.")
    days = drag.days()
    if days == 0:  # less than half a day: put the bar back where it was
        return await _answer(conn, zoom, drag, row_id=drag.id, before=await _order(conn))
    move, grow = (days, 0) if drag.edge == "move" else (0, days)
    return await _move(conn, zoom, drag, drag.id, move, grow)


@router.post(f"{PATH}/nudge", dependencies=[Depends(require_datastar)])
async def nudge(
    request: Request, conn: Conn, zoom: Annotated[str, Query()] = DEFAULT_ZOOM
) -> Response:
    """Arrow keys: `{id, move, grow, window_start, window_days}` in whole days."""
    zoom = _zoom(zoom)
    try:
        keys = NudgeIn.model_validate(await client_signals(request))
    except ValidationError:
        return await _answer(conn, zoom, None, error="That move could not be read.")
    if keys.move == 0 and keys.grow == 0:
        return await _answer(conn, zoom, keys, row_id=keys.id, before=await _order(conn))
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
    needs = await _rows(conn, needs_ids) if needs_ids else []
    waiting = await _waiting(conn, record_id) if record_id is not None else []
    broken = _broken_rule(f"This {NOUN}", start, end, needs, waiting)
    return {broken[0]: broken[1]} if broken else {}


async def _saved(conn: Conn, zoom: str, message: str, level: str = "success") -> Response:
    return sse([
        patch(render(f"{SCREEN}/_chart.html", chart=await _chart(conn, zoom))),
        patch(render(f"{SCREEN}/_drawer.html", drawer=_closed(zoom))),
        patch_signals({"_selectedId": ""}),
        push_url(_url(PATH, zoom), TITLE),
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
        data = task_store.TaskIn.model_validate(values)
        async with conn.transaction():
            await _lock(conn)
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
async def create(request: Request, conn: Conn, zoom: str = DEFAULT_ZOOM) -> Response:
    values = task_store.form_values(await request.form())
    return await _save(conn, _zoom(zoom), values, None)


@router.put(f"{PATH}/{{record_id}}", dependencies=[Depends(require_datastar)])
async def update(
    request: Request, conn: Conn, record_id: str, zoom: str = DEFAULT_ZOOM
) -> Response:
    record = await find(task_store.get, conn, record_id)
    if record is None:
        return await _saved(conn, _zoom(zoom), f"That {NOUN} no longer exists.", "error")
    values = task_store.form_values(await request.form())
    return await _save(conn, _zoom(zoom), values, record)


@router.delete(f"{PATH}/{{record_id}}", dependencies=[Depends(require_datastar)])
async def delete(conn: Conn, record_id: str, zoom: str = DEFAULT_ZOOM) -> Response:
    record_uuid = parse_id(record_id)
    label = await task_store.delete(conn, record_uuid) if record_uuid else None
    if label is None:
        return await _saved(conn, _zoom(zoom), f"That {NOUN} no longer exists.", "error")
    return await _saved(conn, _zoom(zoom), f"Deleted {label}.")


# Realtime: how changes to `tasks` reach the open pages of this screen.


def _stream_key(request: Request) -> str:
    """Pages are grouped by their zoom (canonical: an unknown zoom is the default one)."""
    return _zoom(request.query_params.get("zoom", ""))


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
        chart = await _chart(conn, _zoom(key))
        return [stream_events.patch_elements(render(f"{SCREEN}/_chart.html", chart=chart))]


LIVE = LiveChart()
STREAM = StreamRoute(path=LIVE_PATH, view=SCREEN, key=_stream_key)
