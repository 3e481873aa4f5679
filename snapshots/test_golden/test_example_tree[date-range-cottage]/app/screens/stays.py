"""Screen `stays`: a date-range picker over store `stay`.

A month calendar of availability, a two-click range picker beside a form for the rest of the
stay, and the upcoming stays.

The server owns availability and every rule: it renders the month with taken days disabled,
checks each picked range, and validates the whole stay on submit. The database has the final
word on overlaps (an exclusion constraint written by `dsgen db`), so two requests racing for
the same nights cannot both win; the loser gets a field error. The browser keeps only the
picked dates and the hover preview (client-only signals): hovering costs no request,
completing a pick costs one.

Dates are hotel-style: START is the first night and END the day it ends, exclusive (the
check-out day), so two stays ending and starting on the same day do not overlap.

`stay` is a realtime store: every page of this screen holds a stream (`GET /stays/live`) for
the month it shows, which redraws the calendar and the list when stays change elsewhere
(`LiveCalendar` at the end).
"""
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from datastar_py.sse import DatastarEvent
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from psycopg import AsyncConnection, IntegrityError
from psycopg.errors import ExclusionViolation
from pydantic import ValidationError

from app.core.date_range import (
    month_grid,
    month_weeks,
    nights_label,
    parse_day,
    parse_month,
    shift_month,
    taken_nights,
)
from app.core.forms import field_errors, parse_id, today
from app.core.live import Since, live_stream
from app.db import Conn
from app.realtime import NetChanges, get_realtime
from app.realtime.asgi import StreamRoute
from app.realtime.events import current_watermark
from app.stores import stay as stay_store
from app.templating import fmt_date, render
from app.web import (
    is_datastar,
    page,
    patch,
    patch_signals,
    push_url,
    require_datastar,
    screen_events,
    sse,
    toast,
)

router = APIRouter(tags=["stays"])

Row = dict[str, Any]

SCREEN = "stays"
TITLE = "Stays"
PATH = "/stays"
LIVE_PATH = f"{PATH}/live"
NOUN = "stay"
Form = stay_store.StayIn
START = "from"  # the first night
END = "end"  # the day it ends, exclusive (check-out)
PICKED = (START, END)  # chosen on the calendar, not typed into the form
MAX_NIGHTS: int | None = None
UPCOMING_LIMIT = 100
NO_PICK = {"start": "", "end": "", "hover": ""}
TAKEN = "Someone has just booked some of these nights. Please pick other dates."


# Months, days and URLs.


def _url(path: str, first: date | None = None) -> str:
    params: dict[str, str] = {}
    if first is not None:
        params["month"] = f"{first:%Y-%m}"
    return f"{path}?{urlencode(params)}" if params else path


# Queries: parameterised SQL, every identifier quoted.


async def _stays(conn: Conn, since: date, until: date, limit: int = 1000) -> list[Row]:
    """The rows with a night in since..until (until excluded)."""
    cur = await conn.execute(
        """
        SELECT t."from" AS "start",
               t."end" AS "end"
        FROM "stays" AS t
        WHERE t."from" < %(until)s
          AND t."end" > %(since)s
        ORDER BY t."from"
        LIMIT %(limit)s
        """,
        {"since": since, "until": until, "limit": limit},
    )
    return await cur.fetchall()


async def _upcoming(conn: Conn) -> list[Row]:
    """The rows that have not ended yet, soonest first."""
    cur = await conn.execute(
        """
        SELECT t."id",
               t."guest" AS "label",
               t."from" AS "start",
               t."end" AS "end",
               t."end"
                 - t."from" AS "nights"
        FROM "stays" AS t
        WHERE t."end" > %(today)s
          AND t."from" IS NOT NULL
        ORDER BY t."from", t."id"
        LIMIT %(limit)s
        """,
        {"today": today(), "limit": UPCOMING_LIMIT},
    )
    return await cur.fetchall()


async def _stay_of(conn: Conn, record_id: UUID) -> Row | None:
    cur = await conn.execute(
        """
        SELECT t."id",
               t."from" AS "start",
               t."end" AS "end"
        FROM "stays" AS t
        WHERE t."id" = %(id)s
        """,
        {"id": record_id},
    )
    return await cur.fetchone()


# Building blocks: the month grid, the list, the form and its range summary.


async def _calendar(conn: Conn, first: date) -> dict[str, Any]:
    """The month's weeks (Monday first); every day says what may be done with it."""
    weeks = month_weeks(first)
    since = weeks[0][0] - timedelta(days=1)  # the night before: is the first day a check-out?
    until = weeks[-1][-1] + timedelta(days=1)
    stays = await _stays(conn, since, until)
    taken = taken_nights(stays, since, until)
    prev, next_ = shift_month(first, -1), shift_month(first, 1)
    return {
        "title": f"{first:%B %Y}",
        "month": f"{first:%Y-%m}",
        "weeks": month_grid(first, weeks, taken),
        "prev": prev and {
            "href": _url(PATH, prev),
            "fetch": _url(f"{PATH}/month", prev),
            "title": f"{prev:%B %Y}",
        },
        "next": next_ and {
            "href": _url(PATH, next_),
            "fetch": _url(f"{PATH}/month", next_),
            "title": f"{next_:%B %Y}",
        },
    }


async def _bookings(conn: Conn) -> dict[str, Any]:
    return {"rows": await _upcoming(conn), "limit": UPCOMING_LIMIT}


def _summary(raw_start: str, raw_end: str, stay: Row | None = None, problem: str = "") -> Row:
    """The server's verdict on one pick; `key` ties it to the pick it is about."""
    return {"key": f"{raw_start}/{raw_end}", "stay": stay, "problem": problem}


async def _form(
    conn: Conn,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    summary: Row | None = None,
) -> dict[str, Any]:
    return {
        "input": values,  # not "values": Jinja would find dict.values first
        "errors": errors or {},
        "summary": summary or _summary("", ""),
    }


def _new_values() -> dict[str, Any]:
    """A blank form: the dates come from the calendar."""
    values = stay_store.new_values()
    return {**values, START: "", END: ""}


async def _check(conn: Conn, raw_start: str, raw_end: str) -> tuple[Row | None, str]:
    """The stay a pick describes and "", or None and why it cannot be booked."""
    start, end = parse_day(raw_start), parse_day(raw_end)
    if start is None or end is None:
        return None, "Pick the first night, then the day it ends, on the calendar."
    if end <= start:
        return None, "The end date must be after the start date."
    if start < today():
        return None, "The start date is in the past."
    nights = (end - start).days
    if MAX_NIGHTS is not None and nights > MAX_NIGHTS:
        return None, f"At most {nights_label(MAX_NIGHTS)} per {NOUN}; these dates span {nights}."
    clash = await _stays(conn, start, end, limit=1)
    if clash:
        first, last = fmt_date(clash[0]["start"]), fmt_date(clash[0]["end"])
        return None, f"These dates overlap a {NOUN} from {first} to {last}."
    return {"start": start, "end": end, "nights": nights}, ""


async def _screen(conn: Conn, first: date) -> dict[str, Any]:
    return {
        "calendar": await _calendar(conn, first),
        "bookings": await _bookings(conn),
        "form": await _form(conn, _new_values()),
    }


def _live(request: Request, first: date, since: str) -> dict[str, Any]:
    """Where the page's stream starts, for which month, and how it retries (_live.html)."""
    query = {"month": f"{first:%Y-%m}", "since": since}
    return live_stream(request, LIVE_PATH, query)


def _restream(live: dict[str, Any]) -> DatastarEvent:
    """The stream element again, for another month: replaced, so the
    stream of what the page shows now is opened (and the old one closed)."""
    return patch(render(f"{SCREEN}/_live.html", live=live), mode="replace")


@router.get(LIVE_PATH)
async def live(request: Request) -> Response:
    """The page's realtime stream (see `LiveCalendar`). In production app/realtime/asgi.py
    answers this path in front of FastAPI (`STREAM` below); this route serves the tests."""
    return get_realtime(request).stream(request, SCREEN, _stream_key(request))


# Pages (GET): each URL is a deep link and a Datastar target.


@router.get(PATH)
async def index(request: Request, conn: Conn, since: Since, month: str = "") -> Response:
    first = parse_month(month)
    context = await _screen(conn, first)
    context["live"] = _live(request, first, since)
    title = TITLE
    url = _url(PATH, first if month else None)
    if not is_datastar(request):
        return page(request, f"{SCREEN}/page.html", screen=SCREEN, title=title, **context)
    # Arriving from another screen, or back/forward: the whole screen, a fresh pick.
    html = render(f"{SCREEN}/_screen.html", **context)
    events = screen_events(html, screen=SCREEN, q="", selected_id="")
    # (The morph changes the stream element's data-init when the month differs:
    # Datastar then closes the old stream and opens the new one.)
    events += [patch_signals({"_pick": NO_PICK}), push_url(url, title)]
    return sse(events)


@router.get(f"{PATH}/month")
async def month_view(request: Request, conn: Conn, since: Since, month: str) -> Response:
    """Previous / next month: only the calendar changes; the pick and the form stay."""
    first = parse_month(month)
    url = _url(PATH, first)
    if not is_datastar(request):
        return RedirectResponse(url)
    html = render(f"{SCREEN}/_calendar.html", calendar=await _calendar(conn, first))
    bookings = render(f"{SCREEN}/_bookings.html", bookings=await _bookings(conn))
    return sse([
        patch(html), patch(bookings), _restream(_live(request, first, since)),
        push_url(url, TITLE),
    ])


@router.get(f"{PATH}/check")
async def check(request: Request, conn: Conn, start: str = "", end: str = "") -> Response:
    """A completed pick: can these dates be booked? Patches only the range summary."""
    if not is_datastar(request):
        return RedirectResponse(PATH)
    stay, problem = await _check(conn, start, end)
    html = render(f"{SCREEN}/_summary.html", summary=_summary(start, end, stay, problem))
    return sse([patch(html)])


# Mutations: Datastar only (see require_datastar), answered with SSE patches.


@router.post(PATH, dependencies=[Depends(require_datastar)])
async def create(request: Request, conn: Conn) -> Response:
    values = stay_store.form_values(await request.form())
    new_id: UUID | None = None
    # One transaction, begun before any query: the checks and the insert commit together,
    # before the response is sent.
    async with conn.transaction():
        stay, problem = await _check(conn, values[START], values[END])
        try:
            data = Form.model_validate(values)
        except ValidationError as exc:
            data, errors = None, field_errors(exc)
        else:
            errors = {}
        # The dates are reported once, by the range summary, in the calendar's words.
        picked = [errors.pop(name) for name in PICKED if name in errors]
        problem = problem or next(iter(picked), "")
        if data is not None and not problem and not errors:
            try:
                new_id = await stay_store.create(conn, data)
            except ExclusionViolation:
                # The database's no-overlap rule: another request booked these nights
                # between our check and our insert.
                stay, problem = None, TAKEN
            except IntegrityError as exc:
                errors = stay_store.constraint_errors(exc)
                if not errors:
                    raise
                picked = [errors.pop(name) for name in PICKED if name in errors]
                problem = next(iter(picked), "")
    if new_id is None or stay is None:
        summary = _summary(values[START], values[END], stay if not problem else None, problem)
        form = await _form(conn, values, errors, summary)
        return sse([patch(render(f"{SCREEN}/_form.html", form=form))])
    first = stay["start"].replace(day=1)
    # The page may now show another month: its stream starts after this commit.
    since = await current_watermark(conn)
    events = [
        patch(render(f"{SCREEN}/_calendar.html", calendar=await _calendar(conn, first))),
        patch(render(f"{SCREEN}/_bookings.html", bookings=await _bookings(conn))),
        patch(render(f"{SCREEN}/_form.html", form=await _form(conn, _new_values()))),
        _restream(_live(request, first, since)),
        push_url(_url(PATH, first), TITLE),
    ]
    return sse([
        *events,
        patch_signals({"_pick": NO_PICK}),
        toast(f"Booked {fmt_date(stay['start'])} → {fmt_date(stay['end'])} "
              f"({nights_label(stay['nights'])})."),
    ])


@router.delete(f"{PATH}/{{record_id}}", dependencies=[Depends(require_datastar)])
async def delete(request: Request, conn: Conn, record_id: str) -> Response:
    booking_id = parse_id(record_id)
    async with conn.transaction():
        stay = await _stay_of(conn, booking_id) if booking_id else None
        if stay is not None:
            await stay_store.delete(conn, stay["id"])
    if stay is None:
        return sse([toast(f"That {NOUN} no longer exists.", "error")])
    first = (stay["start"] or today()).replace(day=1)
    since = await current_watermark(conn)  # the page may now show another month
    events = [
        patch(render(f"{SCREEN}/_calendar.html", calendar=await _calendar(conn, first))),
        patch(render(f"{SCREEN}/_bookings.html", bookings=await _bookings(conn))),
        _restream(_live(request, first, since)),
        push_url(_url(PATH, first), TITLE),
    ]
    return sse([*events, toast(f"{NOUN.capitalize()} deleted; its dates are free again.")])


# Realtime: how changes to `stays` reach the open pages of this screen.


def _stream_key(request: Request) -> str:
    """Pages are grouped by what they show: `<YYYY-MM>`, canonical (a
    malformed month is this month)."""
    try:
        first = parse_month(request.query_params.get("month", ""))
    except HTTPException:
        first = today().replace(day=1)
    return f"{first:%Y-%m}"


class LiveCalendar:
    """The `ChannelView` of this screen (app/realtime/hub.py).

    For each burst of changes and each month, one frame: the month's
    calendar and the upcoming stays, each re-rendered whole and morphed in place. Whole
    regions, not per day: one stay changes the state of a run of days and of the day after
    it (a check-out day), and its place in the list; both are small. The pick (`_pick`, client
    signals) and the form (with what was typed) are not in these regions; an open delete
    dialog in the list keeps its `open` (data-preserve-attr).
    """

    name = SCREEN
    channel = "stays"

    async def render_changes(
        self, conn: AsyncConnection[Any], changes: NetChanges, key: str
    ) -> list[str]:
        return await self.render_all(conn, key)

    async def render_all(self, conn: AsyncConnection[Any], key: str) -> list[str]:
        first = parse_month(key)
        calendar_ = await _calendar(conn, first)
        bookings = await _bookings(conn)
        return [
            patch(render(f"{SCREEN}/_calendar.html", calendar=calendar_)),
            patch(render(f"{SCREEN}/_bookings.html", bookings=bookings)),
        ]


LIVE = LiveCalendar()
STREAM = StreamRoute(path=LIVE_PATH, view=SCREEN, key=_stream_key)
