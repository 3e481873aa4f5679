"""The gantt chart's runtime: the window, the scale, the bars and the arrows, as numbers.

Nothing here depends on the spec: a gantt screen (app/screens/) reads its rows from its own
table, then asks this module for the chart (`build_chart`) and for the schedule rules
(`broken_rule`); its templates only place what is computed here. Every length is a
percentage of the window (or, for the arrows, pixels on the track), decided on the server.

Where a bar begins and ends, as moments in UTC: a start date begins at its midnight; an end
date is inclusive (the bar runs to the midnight after it: the 5th to the 5th is a day); a
datetime is the exact moment.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from urllib.parse import urlencode
from uuid import UUID

from pydantic import BaseModel, Field

ZOOMS = ("day", "week", "month")
DEFAULT_ZOOM = "week"
PX_PER_DAY = {"day": 40, "week": 18, "month": 5}  # the track's width is days * this
PAD = {"day": 2, "week": 7, "month": 15}  # days of air before the first and after the last task
MIN_DAYS = {"day": 28, "week": 84, "month": 245}  # a short plan still fills the width
MAX_DAYS = {"day": 731, "week": 3653, "month": 18263}  # a longer window is cut at its end
TODAY_REACH = 30  # today is pulled into the window when it is this close to the tasks
ROW_LIMIT = 500  # rows shown; the rest are counted, not drawn
# Rows are counted up to here, then read "10,000+": an exact count of a huge table reads
# all of it on every render.
COUNT_CAP = 10_000
ROW_HEIGHT = 44  # px; rows are `h-11` in the templates, the arrows are drawn on this grid
CHAR_PX = 7  # about how wide a character of a bar's label is (text-xs), to see if it fits
HANDLE_PX = 24  # a narrower bar has no grip for its end (it would cover the whole bar)
MAX_SHIFT = 36600  # days a single request may move a task
MAX_PX = 10_000_000  # a drag delta or track width beyond this is not a real pointer
DAY = timedelta(days=1)
# Windows stay inside these dates, so padding and month arithmetic never leave `date`.
EARLIEST = date(2, 1, 1)
LATEST = date(9998, 1, 1)

Row = dict[str, Any]

# Rows written outside the forms' date range (app/core/forms.py: by SQL, an import) are
# drawn at the edge of what the window maths handles instead of breaking the chart.
_LOWEST = datetime.combine(EARLIEST, time.min, UTC)
_HIGHEST = datetime.combine(LATEST, time.min, UTC)


def _bounded(moment: datetime) -> datetime:
    return min(max(moment, _LOWEST), _HIGHEST)


def starts_at(value: date | datetime | None) -> datetime | None:
    """Where a bar begins: a date at its midnight (UTC), a datetime as it is."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return _bounded(value.astimezone(UTC))
    return _bounded(datetime.combine(value, time.min, UTC))


def ends_at(value: date | datetime | None) -> datetime | None:
    """Where a bar ends: after the whole of an (inclusive) end date, or at a datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return _bounded(value.astimezone(UTC))
    return _bounded(datetime.combine(min(value, LATEST), time.min, UTC) + DAY)


def short_date(value: date | datetime) -> str:
    """A start or end as the rows show it: `Mar 5`, or `Mar 5 09:30` for a datetime."""
    if isinstance(value, datetime):
        value = value.astimezone(UTC)
        return f"{value:%b} {value.day} {value:%H:%M}"
    return f"{value:%b} {value.day}"


def long_date(value: date | datetime) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(UTC)
        return f"{value:%b} {value.day}, {value.year} {value:%H:%M} UTC"
    return f"{value:%b} {value.day}, {value.year}"


def duration(begin: datetime, finish: datetime) -> str:
    days = (finish - begin) / DAY
    if days >= 1:
        whole = round(days)
        if abs(days - whole) < 1e-9:
            return "1 day" if whole == 1 else f"{whole} days"
        return f"{days:.1f} days"
    hours = days * 24
    return f"{hours:.1f} h".replace(".0 h", " h")


def row_label(value: Any) -> str:
    """How a row's label reads (it may be empty, or not text)."""
    return str(value) if value not in (None, "") else "Untitled"


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


def window_for(zoom: str, moments: list[datetime], now: datetime) -> Window:
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
    total: int  # rows in the table (more than shown when over ROW_LIMIT), up to COUNT_CAP + 1
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
    def counted(self) -> str:
        """How many rows there are, as the page reads it ("10,000+" past COUNT_CAP)."""
        return f"{COUNT_CAP:,}+" if self.total > COUNT_CAP else f"{self.total:,}"

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


def scale_ticks(window: Window, unit: str, top: bool) -> list[Tick]:
    ticks = []
    day = window.start
    while day < window.end:
        following = min(_next(day, unit), window.end)
        span = (following - day).days
        label, sub = _tick_label(day, unit, top, span * window.px_per_day)
        ticks.append(Tick(_place(window.pct_of_day(day), span / window.days * 100), label, sub))
        day = following
    return ticks


def weekend_bands(window: Window) -> list[str]:
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


def bar_for(window: Window, begin: datetime, finish: datetime, label: str) -> Bar:
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


def chart_row(record: Row, window: Window, error: str = "") -> ChartRow:
    start, end = record["start"], record["end"]
    label = row_label(record["label"])
    begin, finish = starts_at(start), ends_at(end)
    if begin is None or finish is None:
        return ChartRow(str(record["id"]), label, "Not scheduled", "not scheduled", None, error)
    length = duration(begin, finish) if finish > begin else "ends before it starts"
    return ChartRow(
        id=str(record["id"]),
        label=label,
        when=f"{short_date(start)} – {short_date(end)} · {length}",
        span=f"{long_date(start)} to {long_date(end)}, {length}",
        bar=bar_for(window, begin, finish, label),
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


def dependency_links(rows: list[ChartRow], pairs: list[Row]) -> list[Link]:
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


def zoom_url(path: str, zoom: str) -> str:
    return path if zoom == DEFAULT_ZOOM else f"{path}?{urlencode({'zoom': zoom})}"


def parse_zoom(raw: str) -> str:
    return raw if raw in ZOOMS else DEFAULT_ZOOM

def build_chart(
    records: list[Row],
    total: int,
    zoom: str,
    path: str,
    *,
    now: datetime,
    errors: dict[str, str] | None = None,
    pairs: list[Row] | None = None,
) -> Chart:
    """The chart of `records` (`id`, `label`, `start`, `end`; at most ROW_LIMIT, in order)
    at `zoom`, for the screen at `path`. `total` counts every record, `errors` maps a row id
    to why its last move was refused, `pairs` are the (`task`, `needs`) dependencies."""
    moments = [
        m for r in records
        if r["start"] is not None and r["end"] is not None
        for m in (starts_at(r["start"]), ends_at(r["end"]))
        if m is not None
    ]
    window = window_for(zoom, moments, now)
    errors = errors or {}
    rows = [chart_row(r, window, errors.get(str(r["id"]), "")) for r in records]
    for row in rows:
        row.url = zoom_url(f"{path}/{row.id}", zoom)
    top, bottom = _SCALES[zoom]
    today = window.pct(now)
    chart = Chart(
        window=window,
        rows=rows,
        total=total,
        major=scale_ticks(window, top, top=True),
        minor=scale_ticks(window, bottom, top=False),
        weekends=weekend_bands(window),
        today=f"left: {_num(today)}%" if 0 <= today <= 100 else None,
        today_px=round(today / 100 * window.width) if 0 <= today <= 100 else None,
        zooms=[ZoomLink(z, z.capitalize(), zoom_url(path, z)) for z in ZOOMS],
        move_url=f"{path}/move?{urlencode({'zoom': zoom})}",
        nudge_url=f"{path}/nudge?{urlencode({'zoom': zoom})}",
        new_url=zoom_url(f"{path}/new", zoom),
    )
    if rows and pairs:
        chart.links = dependency_links(rows, pairs)
    return chart


# Moves: what a drag or the arrow keys send, and the schedule rules a move must keep.


class Seen(BaseModel):
    """The window the client drew: pixels are converted against it, and when the new chart
    has the same window (and row order) only the moved row is sent back."""

    window_start: date
    window_days: int = Field(ge=1, le=max(MAX_DAYS.values()))


class DragIn(Seen):
    """A bar dropped after a drag: `dx` pixels on a track `width` pixels wide."""

    id: UUID
    edge: Literal["move", "end"] = "move"  # the whole bar, or only its end
    dx: float = Field(ge=-MAX_PX, le=MAX_PX, allow_inf_nan=False)
    width: float = Field(gt=0, le=MAX_PX, allow_inf_nan=False)

    def days(self) -> int:
        """Whole days, rounded half up like the preview the browser drew (Math.round)."""
        return math.floor(self.dx / self.width * self.window_days + 0.5)


class NudgeIn(Seen):
    """Arrow keys on a focused bar, batched: move it and/or change its end by whole days."""

    id: UUID
    move: int = Field(0, ge=-MAX_SHIFT, le=MAX_SHIFT)
    grow: int = Field(0, ge=-MAX_SHIFT, le=MAX_SHIFT)


def broken_rule(
    who: str,
    start: Any,
    end: Any,
    needs: Sequence[Row] = (),
    waiting: Sequence[Row] = (),
) -> tuple[Literal["start", "end"], str] | None:
    """The first schedule rule new dates would break: (the end to blame, why), or None.

    `who` names the task in the message; `needs` are the rows it depends on and `waiting`
    the rows that depend on it (`label`, `start`, `end` each)."""
    begin, finish = starts_at(start), ends_at(end)
    if begin is None or finish is None:
        return None  # not scheduled: nothing to check
    if finish <= begin:
        return "end", f"{who} must end after it starts."
    for other in needs:
        other_finish = ends_at(other["end"])
        if other["start"] is not None and other_finish is not None and begin < other_finish:
            return "start", (
                f"{who} can’t start before “{row_label(other['label'])}” ends"
                f" ({short_date(other['end'])})."
            )
    for other in waiting:
        other_begin = starts_at(other["start"])
        if other["end"] is not None and other_begin is not None and other_begin < finish:
            return "end", (
                f"{who} must end before “{row_label(other['label'])}” starts"
                f" ({short_date(other['start'])})."
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
